from celery import shared_task

from clinic.services import TRANSIENT_EMAIL_ERRORS, email_deliver


@shared_task(
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def send_email(email_id: int) -> bool:
    """Delivers one outbox e-mail by id (see clinic.services.email_deliver)."""
    return email_deliver(email_id=email_id)
