class ClinicError(Exception):
    """A use case refused: the message is written for the person who asked."""
