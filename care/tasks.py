from celery import shared_task


@shared_task
def send_instruction_reminders() -> int:
    """Periodic (Celery beat): one reminder per procedure before its first
    instruction date (see care.services.instructions; safe to repeat)."""
    from care.services.instructions import instruction_reminders_send

    return instruction_reminders_send()
