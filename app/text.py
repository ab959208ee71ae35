"""Plain text helpers shared by every channel: reference numbers as people read them, SMS kept in GSM-7.

Pure Python: no Flask, no database."""
import unicodedata


def format_reference(ref: str) -> str:
    """Nine digits in three groups of three: easy to read out, type and quote on the phone line."""
    return f"{ref[0:3]} {ref[3:6]} {ref[6:9]}"


GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")
_FOLD = {"’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"', "\u00a0": " ", "\u202f": " ", "–": "-", "—": "-",
         "œ": "oe", "Œ": "OE", "ç": "c", "…": "..."}


def gsm7(text: str) -> str:
    """Keep an SMS in GSM-7 (160 characters a segment): one letter outside it would make the whole SMS UCS-2."""
    out = []
    for c in text:
        if c in GSM7:
            out.append(c)
        elif c in _FOLD:
            out.append(_FOLD[c])
        else:
            base = "".join(b for b in unicodedata.normalize("NFKD", c) if not unicodedata.combining(b))
            out.append("".join(b for b in base if b in GSM7) or "?")
    return "".join(out)
