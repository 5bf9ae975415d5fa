"""The pages' messages written in Python, marked for the catalogues (``N_`` is found by
``make i18n``) and translated where they are shown."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


WRONG_PASSWORD = N_("Wrong e-mail or password.")
SIGN_IN_BUSY = N_("Many sign-ins are being checked at once. Try again in a few seconds.")
SIGN_IN_LIMITED = N_("Too many failed sign-ins from your address. Try again in a minute.")
FOR_ADMINS = N_("This page is for administrators.")
OTHER_ORG = N_("You may not see this organisation.")
NO_SUCH_ORG = N_("There is no such organisation.")
NO_ORG_YET = N_("There is no organisation yet.")
NO_SUCH_AGENT = N_("There is no such agent.")
NO_SUCH_PAGE = N_("There is no such page.")
BAD_NUMBER = N_("A number in the address is not one this page takes.")
WRONG_METHOD = N_("This page does not take that request.")
SERVER_ERROR = N_("Something went wrong on our side; try again.")
BOARD_UNAVAILABLE = N_("The board cannot be read now; try again.")
NOT_APPLIED = N_("The database did not take the change; try again.")
OIDC_STATE = N_("This sign-in is not valid any more (used already, or too old). Start again.")
OIDC_PROVIDER = N_(
    "The identity provider could not be reached or did not sign you in. Try again later."
)
OIDC_TOKEN = N_("The identity provider's answer could not be verified, so it was refused.")
OIDC_UNVERIFIED = N_("The identity provider did not give a verified e-mail address.")
OIDC_UNKNOWN_USER = N_("Your account is not a user of agentstatus. Ask an administrator to add it.")
OIDC_NO_ROLE = N_("Your account has no role in agentstatus. Ask an administrator.")
PASSWORD_SIGN_IN_OFF = N_("Signing in with a password is turned off here.")
