"""Field validators for legal identifiers, bank details and phone numbers.

Each one raises a ValidationError naming the problem (bad length, bad
checksum, wrong country) and the ``normalise_*`` helpers return the
compact form that is stored.
"""

from __future__ import annotations

import contextlib

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from schwifty import BIC, IBAN
from schwifty import exceptions as schwifty_errors
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from relance.rules.money import CURRENCIES


def _problem(code: str, label: str) -> ValidationError:
    messages = {
        "checksum": _("%(label)s: the check digit is wrong (typo?)."),
        "length": _("%(label)s: wrong number of characters."),
        "component": _("%(label)s: unknown country or component."),
        "format": _("%(label)s: invalid format."),
    }
    return ValidationError(messages[code] % {"label": label}, code=code)


def _stdnum_message(exc: Exception, label: str) -> ValidationError:
    if isinstance(exc, stdnum_errors.InvalidChecksum):
        return _problem("checksum", label)
    if isinstance(exc, stdnum_errors.InvalidLength):
        return _problem("length", label)
    if isinstance(exc, stdnum_errors.InvalidComponent):
        return _problem("component", label)
    return _problem("format", label)


def _schwifty_message(exc: Exception, label: str) -> ValidationError:
    # schwifty's own messages are English only: name the problem in ours.
    if isinstance(exc, schwifty_errors.InvalidChecksumDigits | schwifty_errors.InvalidBBANChecksum):
        return _problem("checksum", label)
    if isinstance(exc, schwifty_errors.InvalidLength):
        return _problem("length", label)
    if isinstance(exc, schwifty_errors.InvalidCountryCode):
        return _problem("component", label)
    return _problem("format", label)


def normalise_siren(value: str) -> str:
    try:
        return fr_siren.validate(value)
    except stdnum_errors.ValidationError as exc:
        raise _stdnum_message(exc, "SIREN") from None


def normalise_siret(value: str) -> str:
    try:
        return fr_siret.validate(value)
    except stdnum_errors.ValidationError as exc:
        raise _stdnum_message(exc, "SIRET") from None


def normalise_vat(value: str) -> str:
    try:
        return eu_vat.validate(value)
    except stdnum_errors.ValidationError as exc:
        raise _stdnum_message(exc, _("VAT number")) from None


def validate_siren(value: str) -> None:
    normalise_siren(value)


def validate_siret(value: str) -> None:
    normalise_siret(value)


def validate_vat(value: str) -> None:
    normalise_vat(value)


def check_identifiers_agree(siren: str, siret: str, vat: str) -> dict[str, ValidationError]:
    """Cross-check SIREN, SIRET and a French VAT number that all embed the SIREN."""
    errors: dict[str, ValidationError] = {}
    if not siren and len(siret) == 14 and siret.isdigit():
        siren = siret[:9]  # a SIRET alone still names its company
    if siren and siret and not siret.startswith(siren):
        errors["siret"] = ValidationError(
            _("This SIRET does not belong to the SIREN %(siren)s.") % {"siren": siren},
            code="mismatch",
        )
    if siren and vat.startswith("FR") and len(vat) == 13 and vat[4:] != siren:
        errors["vat_number"] = ValidationError(
            _("This French VAT number does not match the SIREN %(siren)s.") % {"siren": siren},
            code="mismatch",
        )
    return errors


def normalise_identifiers(instance: object, names: tuple[str, ...]) -> None:
    """Store SIREN, SIRET, VAT, IBAN and BIC fields in their compact form.

    A value that does not validate is left as typed: its field validator
    reports the problem to the user.
    """
    for name in names:
        value = getattr(instance, name)
        if value:
            with contextlib.suppress(ValidationError):
                setattr(instance, name, NORMALISERS[name](value))


def normalise_iban(value: str) -> str:
    try:
        return IBAN(value).compact
    except schwifty_errors.SchwiftyException as exc:
        raise _schwifty_message(exc, "IBAN") from None


def validate_iban(value: str) -> None:
    normalise_iban(value)


def normalise_bic(value: str) -> str:
    try:
        return BIC(value).compact
    except schwifty_errors.SchwiftyException as exc:
        raise _schwifty_message(exc, "BIC") from None


def validate_bic(value: str) -> None:
    normalise_bic(value)


def normalise_phone(value: str, region: str = "FR") -> str:
    """Return the E.164 form of a phone number, reading national numbers in ``region``."""
    try:
        number = phonenumbers.parse(value, region or "FR")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("This is not a phone number."), code="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("This phone number is not valid for its country (check the digits and the prefix)."),
            code="phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_currency(value: str) -> None:
    if value not in CURRENCIES:
        raise ValidationError(
            _("Unsupported currency: %(code)s.") % {"code": value}, code="currency"
        )


NORMALISERS = {
    "siren": normalise_siren,
    "siret": normalise_siret,
    "vat_number": normalise_vat,
    "iban": normalise_iban,
    "bic": normalise_bic,
}
