"""Basic matrix operations on lists of rows."""


class ShapeError(ValueError):
    pass


def shape(m):
    """(rows, columns); every row must have the same length."""
    if not m:
        return (0, 0)
    cols = len(m[0])
    if any(len(row) != cols for row in m):
        raise ShapeError("rows have different lengths")
    return (len(m), cols)


def identity(n):
    return [[1 if i == j else 0 for j in range(n)] for i in range(n)]


def transpose(m):
    n = len(m)
    return [[m[j][i] for j in range(n)] for i in range(n)]


def matmul(a, b):
    """The matrix product a x b."""
    (ar, ac), (br, bc) = shape(a), shape(b)
    if ac != br:
        raise ShapeError(f"cannot multiply {ar}x{ac} by {br}x{bc}")
    columns = transpose(b)
    return [[sum(x * y for x, y in zip(row, col)) for col in columns] for row in a]
