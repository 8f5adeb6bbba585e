"""BM25 relevance of (prompt, attribute) pairs with `bm25s`, words stemmed by PyStemmer.

One side is the query and the other the document collection (every distinct text of that kind
in the pairing config: inputs only, never labels). Tokenization is bm25s's (lower-cased words
of two or more characters), with or without its English stop words, stemmed by Snowball's
English stemmer; scoring is bm25s's default (Lucene's BM25, k1 = 1.5, b = 0.75).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

DIRECTIONS = ("prompt->attribute", "attribute->prompt")


def _tokenize(texts: Sequence[str], stopwords: str) -> Any:
    import bm25s
    import Stemmer

    return bm25s.tokenize(
        list(texts),
        stopwords=None if stopwords == "none" else stopwords,
        stemmer=Stemmer.Stemmer("english"),
        return_ids=False,
        show_progress=False,
    )


def bm25_scores(rows: Sequence[Mapping[str, Any]], direction: str, stopwords: str) -> np.ndarray:
    """The BM25 score of every row's pair, the query side given by `direction`."""
    import bm25s

    query_field, document_field = direction.split("->")
    queries = sorted({row[query_field] for row in rows})
    documents = sorted({row[document_field] for row in rows})
    document_at = {text: i for i, text in enumerate(documents)}
    retriever = bm25s.BM25()
    retriever.index(_tokenize(documents, stopwords), show_progress=False)
    query_tokens = dict(zip(queries, _tokenize(queries, stopwords), strict=True))
    by_query = {
        query: retriever.get_scores(tokens) if tokens else np.zeros(len(documents))
        for query, tokens in query_tokens.items()
    }
    return np.array(
        [float(by_query[row[query_field]][document_at[row[document_field]]]) for row in rows]
    )


OVERLAP_FEATURES = (
    "BM25 prompt->attribute",
    "BM25 attribute->prompt",
    "shared stems",
    "Jaccard of stems",
    "share of attribute stems in the prompt",
    "share of prompt stems in the attribute",
    "attribute stems",
    "log prompt stems",
)


def overlap_features(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The OVERLAP_FEATURES of each pair (stems without English stop words; inputs only)."""
    texts = sorted({row["prompt"] for row in rows} | {row["attribute"] for row in rows})
    stems = {text: set(tokens) for text, tokens in zip(texts, _tokenize(texts, "en"), strict=True)}
    columns = [bm25_scores(rows, direction, "none") for direction in DIRECTIONS]
    table = []
    for row in rows:
        p, a = stems[row["prompt"]], stems[row["attribute"]]
        shared = len(p & a)
        table.append(
            [
                shared,
                shared / max(1, len(p | a)),
                shared / max(1, len(a)),
                shared / max(1, len(p)),
                len(a),
                np.log1p(len(p)),
            ]
        )
    return np.column_stack([*columns, np.array(table, dtype=float)])
