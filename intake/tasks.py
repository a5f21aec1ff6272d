from celery import shared_task

from intake.routing import case_route, cases_escalate_overdue


@shared_task
def route_case(case_id: int) -> None:
    """Routes one submitted case by id (see intake.routing.case_route; safe to repeat)."""
    case_route(case_id=case_id)


@shared_task
def escalate_overdue_cases() -> int:
    """Periodic (Celery beat): raises cases waiting past the review target."""
    return cases_escalate_overdue()


@shared_task
def send_consultation_reminders() -> int:
    """Periodic (Celery beat): each consultation's reminders, each sent once."""
    from intake.scheduling import reminders_send

    return reminders_send()
