from celery import shared_task


@shared_task
def send_instruction_reminders() -> int:
    """Periodic (Celery beat): one reminder per procedure before its first
    instruction date (see care.services.instructions; safe to repeat)."""
    from care.services.instructions import instruction_reminders_send

    return instruction_reminders_send()


@shared_task
def run_followups() -> dict[str, int]:
    """Periodic (Celery beat): opens follow-ups as their window opens, sends the
    reminders and marks missed ones (see care.services.followups; safe to repeat and
    to overlap itself)."""
    from care.services.followups import followups_run

    return followups_run()
