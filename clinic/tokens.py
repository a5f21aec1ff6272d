from django.contrib.auth.tokens import PasswordResetTokenGenerator

from clinic.models import User


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Like Django's reset tokens, with its own salt, and invalid once the address
    is confirmed (the confirmation time is part of the hash)."""

    key_salt = "clinic.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.email_verified_at}{timestamp}"


email_verification_tokens = EmailVerificationTokenGenerator()
