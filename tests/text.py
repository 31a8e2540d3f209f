"""Text checks the tests share."""

import re

# Chinese characters, CJK punctuation and full-width forms: what an English text must not hold.
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
