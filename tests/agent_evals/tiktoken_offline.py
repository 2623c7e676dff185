"""tiktoken's o200k_base file, rebuilt offline for Inspect's token counts (the mock model's too).

tiktoken downloads ``o200k_base.tiktoken`` on first use, and an Inspect eval without it ends in
status "error" on a machine without network. bpe-openai (in the test extra) ships the same ranks:
this writes them in tiktoken's file format under the cache name tiktoken looks for, checked
against the published file's sha256 (the method of shared/tools/tiktoken-o200k-cache).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


def write_o200k(directory: Path) -> Path:
    """Write the file into ``directory`` (use it as TIKTOKEN_CACHE_DIR); its path."""
    import bpe_openai

    enc = bpe_openai.get_encoding("o200k_base")
    lines = []
    for rank in range(enc.n_vocab):
        try:
            token = enc.decode_single_token_bytes(rank)
        except Exception:  # ranks without bytes: the gap before the special tokens
            continue
        if token.startswith(b"<|") and token.decode("utf-8", "ignore") in enc.special_tokens_set:
            continue  # special tokens are not in the ranks file
        lines.append(f"{base64.b64encode(token).decode()} {rank}")
    data = ("\n".join(lines) + "\n").encode()
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise RuntimeError("the rebuilt o200k_base differs from the published file")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / hashlib.sha1(URL.encode()).hexdigest()
    path.write_bytes(data)
    return path
