"""Working hours: is a moment inside one of the working intervals of a schedule?"""


def is_working_time(intervals, moment):
    """Whether ``moment`` falls in one of ``intervals`` (``(start, end)`` pairs, end excluded), all in UTC."""
    return any(start <= moment < end for start, end in intervals)


def working_seconds(intervals, start, end):
    """Whole seconds of ``intervals`` (``(start, end)`` pairs, UTC) that fall between ``start`` and ``end``; an
    overlap of two intervals counts once. ``intervals`` may reach beyond both ends: they are cut to them."""
    clipped = sorted((max(begin, start), min(finish, end)) for begin, finish in intervals
                     if begin < end and finish > start)
    total, reached = 0.0, start
    for begin, finish in clipped:
        begin = max(begin, reached)
        if finish > begin:
            total += (finish - begin).total_seconds()
            reached = finish
    return int(total)
