import pytest

from matrixlite import ShapeError, identity, matmul, shape, transpose


def test_shape():
    assert shape([[1, 2, 3], [4, 5, 6]]) == (2, 3)
    assert shape([]) == (0, 0)


def test_ragged_rows():
    with pytest.raises(ShapeError):
        shape([[1, 2], [3]])


def test_transpose_square():
    assert transpose([[1, 2], [3, 4]]) == [[1, 3], [2, 4]]


def test_matmul_square():
    assert matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]]) == [[19, 22], [43, 50]]


def test_identity_is_neutral():
    m = [[2, 3], [5, 7]]
    assert matmul(m, identity(2)) == m


def test_matmul_shape_mismatch():
    with pytest.raises(ShapeError):
        matmul([[1, 2]], [[1, 2]])
