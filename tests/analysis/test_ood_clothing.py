"""The fifth out-of-domain polarity set (#11): the women's clothing reviews loader.

Only the pure parts are tested, on rows and a parquet file made here: the label rule, the
duplicate handling, the column check and the harness wiring. The real set is never read by a
test: it is kept for a single scoring by the lead.
"""

from __future__ import annotations

import io

import pytest


def test_label_rule_drops_the_middle_star_empties_duplicates_and_conflicts() -> None:
    from bench import ood_polarity

    rows = ood_polarity.clothing_review_rows([
        ("Runs  small,\nsent it back &amp; got a refund.", 1),
        ("Fabric pilled after one wash.", 2),
        ("It is fine.", 3),                       # the middle star: dropped
        ("Love the colour!", 5),
        ("Fits perfectly.", 4),
        ("Fits &quot;perfectly&quot;.", 2),       # decoded: a new text, kept
        ("Didn&amp;#39;t last.", 1),              # escaped twice: decoded twice
        ("Love the colour!", 5),                  # exact duplicate: kept once
        ("Mixed feelings.", 2),
        ("Mixed feelings.", 4),                   # the same text with both labels: dropped
        (None, 1),                                # no text: dropped
        ("   ", 5),
    ])
    assert rows == [("Runs small, sent it back & got a refund.", "negative"), ("Fabric pilled after one wash.", "negative"),
                    ("Love the colour!", "positive"), ("Fits perfectly.", "positive"),
                    ('Fits "perfectly".', "negative"), ("Didn't last.", "negative")]


@pytest.mark.parametrize("rating", [0, 6, None, 4.5, "5", True])
def test_a_rating_outside_one_to_five_is_an_error_not_a_drop(rating: object) -> None:
    from bench import ood_polarity

    with pytest.raises(ValueError, match="not a whole number from 1 to 5"):
        ood_polarity.clothing_review_rows([("Nice.", 5), ("Odd.", rating)])


def _parquet(columns: dict[str, list[object]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf, compression="brotli")
    return buf.getvalue()


def test_table_reads_the_two_columns_and_names_a_missing_one() -> None:
    from bench import ood_polarity

    data = _parquet({"Clothing ID": [7, 8], "Title": ["t", None], "Review Text": ["Too tight.", None],
                     "Rating": [2, 5]})
    assert ood_polarity.clothing_review_table(data) == [("Too tight.", 2), (None, 5)]
    assert ood_polarity.clothing_review_rows(ood_polarity.clothing_review_table(data)) == [("Too tight.", "negative")]
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['Rating'\]"):
        ood_polarity.clothing_review_table(_parquet({"Review Text": ["x"], "Stars": [5]}))


def test_harness_reads_the_set_only_when_named() -> None:
    from bench import verdicts_sentiment as vs

    assert "clothing" in vs.SETS and "clothing" in vs.OOD_SETS
    assert "clothing" not in vs.parse_sets("") and "clothing" not in vs.parse_sets(None)
    assert vs.parse_sets("clothing") == ("clothing",)
    assert vs.parse_sets("drugs,clothing") == ("drugs", "clothing")
