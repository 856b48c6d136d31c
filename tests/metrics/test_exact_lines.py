from collections import Counter

from nextedit.metrics.exact_lines import ClassificationMetrics, changed_lines, exact_lines_match


def test_spec_vector_mixed():
    expected = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-old line 1\n-old line 2\n+new line 1\n+new line 2\n"
    actual = "--- a/f\n+++ b/f\n@@ -1,1 +1,2 @@\n-old line 1\n+new line 1\n+extra line\n"
    m = exact_lines_match(expected, actual)
    assert (m.true_positives, m.false_positives, m.false_negatives) == (2, 1, 2)
    assert round(m.precision, 4) == round(2 / 3, 4)
    assert m.recall == 0.5


def test_spec_vector_multiplicity():
    m = exact_lines_match("+line a\n+line a\n+line a\n", "+line a\n+line a\n")
    assert (m.true_positives, m.false_positives, m.false_negatives) == (2, 0, 1)


def test_headers_excluded_and_prefix_kept():
    patch = "diff --git a/x b/x\nindex 123..456\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+a\n context\n"
    assert changed_lines(patch) == Counter({"-a": 1, "+a": 1})


def test_zero_denominators():
    m = exact_lines_match("", "")
    assert m.precision == m.recall == m.f1 == 0.0
    assert exact_lines_match("+x\n", "+x\n").f1 == 1.0


def test_pooling_is_micro():
    a = ClassificationMetrics(1, 0, 0)
    b = ClassificationMetrics(0, 3, 1)
    pooled = ClassificationMetrics.pooled([a, b])
    assert (pooled.true_positives, pooled.false_positives, pooled.false_negatives) == (1, 3, 1)
    assert pooled.precision == 0.25 and pooled.recall == 0.5
