"""URLs under /bank/: statement imports (urls_statements) and matching (urls_matching)."""

from relance.banking.urls_matching import urlpatterns as matching
from relance.banking.urls_statements import urlpatterns as statements

urlpatterns = statements + matching
