"""Real data that system packages ship, read in place and never copied into the repository.

- ``digits``: OpenCV's ``digits.png`` (Debian ``opencv-doc``): 5,000 handwritten digits, 20×20, in a 2000×1000
  grid of 50 rows per class with 100 digits a row.
- ``letters``: UCI letter recognition (``letter-recognition.data`` in ``opencv-doc``): 20,000 rows, the class
  letter then 16 integer features.
- ``sk-digits``, ``iris``, ``wine``, ``breast_cancer``: scikit-learn's bundled sets (``load_*``; nothing is
  downloaded, ``fetch_*`` is never used).

Every loader returns a :class:`RealDataset` with float32 features in their natural shape (images ``N×1×H×W``
scaled to [0, 1], tabular ``N×D`` raw) and int64 labels. Scaling for a learner is the learner's business:
:func:`standardiser` fits on the training split only, so held-out data never leaks into it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
DIGITS_PNG = OPENCV_DATA / "digits.png"
LETTERS_DATA = OPENCV_DATA / "letter-recognition.data"


@dataclass(frozen=True)
class RealDataset:
    name: str
    x: np.ndarray
    """float32; images N×1×H×W in [0, 1], tabular N×D."""
    y: np.ndarray
    """int64 class indices 0..n_classes-1."""
    classes: tuple[str, ...]
    kind: str
    """"image" or "tabular"."""
    source: str
    """Where the records came from (a path or a scikit-learn loader), for manifests and reports."""

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def feature_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def fingerprint(self) -> str:
        """sha256 over the arrays: two runs on the same records agree, whatever path they were read from."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.x).tobytes())
        h.update(np.ascontiguousarray(self.y).tobytes())
        return h.hexdigest()

    def subset(self, index: np.ndarray, name: str | None = None) -> RealDataset:
        name = name or self.name
        return RealDataset(name, self.x[index], self.y[index], self.classes, self.kind, self.source)


def load_digits_png(path: Path = DIGITS_PNG) -> RealDataset:
    import cv2  # only this loader needs OpenCV; keep the import local so tabular users do not pay for it

    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise FileNotFoundError(f"{path} not found or unreadable (Debian package opencv-doc)")
    cell = 20
    rows, cols = img.shape[0] // cell, img.shape[1] // cell  # 50 × 100
    cells = img.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(-1, 1, cell, cell)
    # Rows are grouped by class: rows 0-4 are zeros, 5-9 ones, … (500 digits per class).
    y = np.repeat(np.arange(10), (rows // 10) * cols)
    return RealDataset("digits", cells.astype(np.float32) / 255.0, y.astype(np.int64),
                       tuple(str(d) for d in range(10)), "image", str(path))


def load_letters(path: Path = LETTERS_DATA) -> RealDataset:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found (Debian package opencv-doc)")
    raw = np.loadtxt(path, delimiter=",", dtype=str)
    y = np.array([ord(c) - ord("A") for c in raw[:, 0]], dtype=np.int64)
    x = raw[:, 1:].astype(np.float32)
    classes = tuple(chr(ord("A") + i) for i in range(26))
    return RealDataset("letters", x, y, classes, "tabular", str(path))


def _sklearn(name: str) -> RealDataset:
    from sklearn import datasets

    loader = {"sk-digits": datasets.load_digits, "iris": datasets.load_iris, "wine": datasets.load_wine,
              "breast_cancer": datasets.load_breast_cancer}[name]
    bunch = loader()
    x = bunch.data.astype(np.float32)
    y = bunch.target.astype(np.int64)
    classes = tuple(str(c) for c in bunch.target_names)
    if name == "sk-digits":
        # 8×8 images with 17 grey levels (0..16): keep the image shape so conv nets and ViTs can use it.
        images = x.reshape(-1, 1, 8, 8) / 16.0
        return RealDataset(name, images, y, classes, "image", "sklearn.datasets.load_digits")
    return RealDataset(name, x, y, classes, "tabular", f"sklearn.datasets.load_{name}")


LOADERS: dict[str, Callable[[], RealDataset]] = {
    "digits": load_digits_png,
    "letters": load_letters,
    "sk-digits": lambda: _sklearn("sk-digits"),
    "iris": lambda: _sklearn("iris"),
    "wine": lambda: _sklearn("wine"),
    "breast_cancer": lambda: _sklearn("breast_cancer"),
}


def dataset_names() -> list[str]:
    return sorted(LOADERS)


def load_dataset(name: str, max_per_class: int | None = None, seed: int = 0) -> RealDataset:
    """A dataset by name; ``max_per_class`` keeps a stratified random subset (letters has 20,000 rows)."""
    try:
        ds = LOADERS[name]()
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(dataset_names())}") from None
    if max_per_class is None:
        return ds
    rng = np.random.default_rng(seed)
    keep = [rng.permutation(np.flatnonzero(ds.y == c))[:max_per_class] for c in range(ds.n_classes)]
    return ds.subset(np.sort(np.concatenate(keep)))


def stratified_split(ds: RealDataset, test_fraction: float, seed: int) -> tuple[RealDataset, RealDataset]:
    """Train / held-out split with the same class proportions in both, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in range(ds.n_classes):
        idx = rng.permutation(np.flatnonzero(ds.y == c))
        n_test = int(round(len(idx) * test_fraction))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    tr, te = np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
    return ds.subset(tr, f"{ds.name}-train"), ds.subset(te, f"{ds.name}-test")


@dataclass(frozen=True)
class Standardiser:
    """Per-feature mean and std fitted on training records; images use one scalar (pixels share a scale)."""

    mean: np.ndarray
    std: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std).astype(np.float32)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return (z * self.std + self.mean).astype(np.float32)


def standardiser(train: RealDataset) -> Standardiser:
    if train.kind == "image":
        mean = np.array(train.x.mean(), dtype=np.float32)
        std = np.array(train.x.std() + 1e-6, dtype=np.float32)
    else:
        mean = train.x.mean(axis=0).astype(np.float32)
        std = (train.x.std(axis=0) + 1e-6).astype(np.float32)
    return Standardiser(mean, std)
