"""Pure business rules: plain Python, no Django, dates and amounts passed in."""
