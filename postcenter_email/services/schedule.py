"""Working hours: is a moment inside one of the working intervals of a schedule?"""


def is_working_time(intervals, moment):
    """Whether ``moment`` falls in one of ``intervals`` (``(start, end)`` pairs, end excluded), all in UTC."""
    return any(start <= moment < end for start, end in intervals)
