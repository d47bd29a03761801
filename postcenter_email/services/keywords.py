"""Important keywords: whole words or short phrases, ignoring case and accents."""
import re
import unicodedata


def fold(text):
    """Lower-case, accents removed, runs of spaces as one: 'Reclamación  URGENTE' -> 'reclamacion urgente'."""
    decomposed = unicodedata.normalize('NFKD', text or '')
    bare = ''.join(char for char in decomposed if not unicodedata.combining(char))
    return ' '.join(bare.casefold().split())


def matcher(keywords):
    """A compiled pattern matching any keyword as whole words, or ``None`` for no keywords."""
    folded = sorted({fold(keyword) for keyword in keywords if fold(keyword)}, key=len, reverse=True)
    if not folded:
        return None
    alternatives = '|'.join(r'\s+'.join(re.escape(word) for word in keyword.split()) for keyword in folded)
    return re.compile(r'(?<!\w)(?:%s)(?!\w)' % alternatives)


def found(text, keywords):
    """The keywords (as folded) that appear in ``text``, in order of appearance, without repeats."""
    pattern = keywords if hasattr(keywords, 'finditer') else matcher(keywords)
    if pattern is None:
        return []
    seen = []
    for match in pattern.finditer(fold(text)):
        word = ' '.join(match.group(0).split())
        if word not in seen:
            seen.append(word)
    return seen
