"""Data adapters: turn what `fit`/`evaluate`/`predict` receive (NumPy
arrays, lamina tensors, lists/dicts of them, Python generators, iterables,
`PyDataset`) into batches of lamina tensors, and `EpochIterator`, which
yields the steps of an epoch."""

import math
import types
import warnings

import numpy as np

from lamina import _core
from lamina.utils import tree
from lamina.utils.py_dataset import PyDataset

Tensor = _core.Tensor


def unpack_x_y_sample_weight(data):
    """`(x, y, sample_weight)` from a batch given as `x`, `(x,)`, `(x, y)` or
    `(x, y, sample_weight)`."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found: {data}"
    )


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    if y is None:
        if not isinstance(x, (tuple, list)):
            return x
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _is_array(x):
    return isinstance(x, (np.ndarray, Tensor)) or (
        hasattr(x, "__array__") and not isinstance(x, (str, bytes)) and not hasattr(x, "__next__")
    )


def _to_numpy_leaf(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        arr = np.asarray(x.numpy())
    else:
        arr = np.asarray(x)
    if arr.dtype.kind == "f" and arr.dtype != np.float32:
        arr = arr.astype(np.float32)
    elif arr.dtype.kind in "iu" and arr.dtype not in (np.int32, np.int64):
        arr = arr.astype(np.int64 if arr.dtype.itemsize > 4 or arr.dtype.kind == "u" and arr.dtype.itemsize >= 4 else np.int32)
    elif arr.dtype.kind == "O":
        raise ValueError(f"Arrays of Python objects are not supported as model inputs (got dtype object, shape {arr.shape})")
    return arr


def _to_tensor_leaf(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return x
    arr = np.ascontiguousarray(x)
    return _core.convert_to_tensor(arr, None, False)


def to_tensors(structure):
    """Converts every array leaf of a batch to a lamina tensor."""
    def conv(x):
        if x is None or isinstance(x, Tensor):
            return x
        if isinstance(x, (np.ndarray, np.generic)) or _is_array(x):
            return _to_tensor_leaf(_to_numpy_leaf(x))
        if isinstance(x, (float, int)) and not isinstance(x, bool):
            return x
        return x

    return tree.map_structure(conv, structure)


def is_array_data(x):
    if x is None:
        return False
    flat = tree.flatten(x)
    return bool(flat) and all(v is None or _is_array(v) for v in flat)


def class_weight_to_sample_weights(y, class_weight):
    sample_weight = np.ones(shape=(y.shape[0],), dtype=np.float32)
    if y.ndim > 1:
        if y.shape[-1] != 1:
            y = np.argmax(y, axis=-1)
        else:
            y = np.squeeze(y, axis=-1)
    y = np.round(y).astype(np.int64)
    for i in range(y.shape[0]):
        sample_weight[i] = class_weight.get(int(y[i]), 1.0)
    return sample_weight


def train_validation_split(arrays, validation_split):
    """Splits arrays into (train, validation): the last `validation_split`
    fraction (before any shuffling) is for validation."""
    flat = [a for a in tree.flatten(arrays) if a is not None]
    if not flat:
        raise ValueError("`validation_split` needs data arrays")
    if not all(_is_array(a) for a in flat):
        raise ValueError(
            "`validation_split` is only supported for NumPy arrays and tensors. "
            f"Received: x={type(arrays[0])}. Pass `validation_data` instead."
        )
    if not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1. Received: {validation_split}")
    n = int(np.shape(flat[0])[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a validation and "
            f"training set as specified by `validation_split={validation_split}`. Either provide more data, or "
            "a different value for the `validation_split` argument."
        )

    def part(a, lo, hi):
        if a is None:
            return None
        if isinstance(a, Tensor):
            a = a.numpy()
        return np.asarray(a)[lo:hi]

    train = tree.map_structure(lambda a: part(a, 0, split_at), arrays)
    val = tree.map_structure(lambda a: part(a, split_at, n), arrays)
    return train, val


class DataAdapter:
    num_batches = None
    batch_size = None
    has_partial_batch = None

    def get_iterator(self):
        raise NotImplementedError

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class ArrayDataAdapter(DataAdapter):
    """Batches of arrays, shuffled each epoch with a seeded NumPy Generator."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False, class_weight=None, rng=None):
        if class_weight is not None:
            if y is None:
                raise ValueError("`class_weight` requires targets `y`.")
            if isinstance(y, (list, tuple, dict)) and len(tree.flatten(y)) > 1:
                raise ValueError("`class_weight` is only supported for Models with a single output.")
            y_np = _to_numpy_leaf(tree.flatten(y)[0])
            if sample_weight is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
            sample_weight = class_weight_to_sample_weights(y_np, class_weight)
        data = (x,) if y is None and sample_weight is None else ((x, y) if sample_weight is None else (x, y, sample_weight))
        # As Keras's pack_x_y_sample_weight: inputs alone reach train_step as
        # `x` itself (a custom train_step may use the batch directly), or as
        # `(x,)` when x is a tuple/list of inputs.
        self._bare_x = y is None and sample_weight is None and not isinstance(x, (tuple, list))
        data = tree.map_structure(lambda a: None if a is None else _to_numpy_leaf(a), data)
        self._data = data
        sizes = {}
        for name, part in zip(("x", "y", "sample_weight"), data):
            leaves = [a for a in tree.flatten(part) if a is not None]
            for a in leaves:
                if a.ndim == 0:
                    raise ValueError(f"Expected arrays with a batch dimension, got a scalar in `{name}`.")
            sizes[name] = sorted({a.shape[0] for a in leaves})
        all_sizes = {s for v in sizes.values() for s in v}
        if len(all_sizes) > 1:
            msg = "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples."
            for name, s in sizes.items():
                if s:
                    msg += f"\n'{name}' sizes: " + ", ".join(str(v) for v in s)
            raise ValueError(msg)
        self._num_samples = all_sizes.pop() if all_sizes else 0
        if self._num_samples == 0:
            raise ValueError("Expected at least one sample in the input data (got 0).")
        self.batch_size = batch_size or 32
        self._shuffle = shuffle
        self._rng = rng if rng is not None else np.random.default_rng()
        self.num_batches = int(math.ceil(self._num_samples / self.batch_size))
        self.has_partial_batch = self._num_samples % self.batch_size != 0

    @property
    def num_samples(self):
        return self._num_samples

    def get_iterator(self):
        n = self._num_samples
        if self._shuffle == "batch":
            order = np.arange(n)
            starts = np.arange(0, n, self.batch_size)
            self._rng.shuffle(starts)
            chunks = [order[s : s + self.batch_size] for s in starts]
            order = np.concatenate(chunks) if chunks else order
        elif self._shuffle:
            order = self._rng.permutation(n)
        else:
            order = None
        for i in range(self.num_batches):
            lo = i * self.batch_size
            hi = min(lo + self.batch_size, n)
            if order is None:
                batch = tree.map_structure(lambda a: None if a is None else a[lo:hi], self._data)
            else:
                idx = order[lo:hi]
                batch = tree.map_structure(lambda a: None if a is None else a[idx], self._data)
            batch = tree.map_structure(_to_tensor_leaf, batch)
            yield batch[0] if self._bare_x else batch


class GeneratorDataAdapter(DataAdapter):
    """Batches from a Python generator (or any iterator / iterable)."""

    def __init__(self, generator):
        self._source = generator
        self._is_iterator = isinstance(generator, types.GeneratorType) or hasattr(generator, "__next__")
        n = None
        if not self._is_iterator:
            try:
                n = len(generator)
            except TypeError:
                n = None
        self.num_batches = n

    def get_iterator(self):
        source = self._source if self._is_iterator else iter(self._source)
        for batch in source:
            yield to_tensors(_as_tuple(batch))


def _as_tuple(batch):
    if isinstance(batch, list) and len(batch) in (2, 3) and not all(_is_array(b) for b in batch[:1]):
        return tuple(batch)
    return batch


class PyDatasetAdapter(DataAdapter):
    """Batches from a `PyDataset` (`__getitem__` / `__len__`); batch order is
    shuffled when `shuffle=True`."""

    def __init__(self, dataset, shuffle=False, rng=None, class_weight=None):
        self._dataset = dataset
        self._class_weight = class_weight
        self._shuffle = shuffle
        self._rng = rng if rng is not None else np.random.default_rng()
        try:
            n = dataset.num_batches
        except NotImplementedError:
            n = None
        self.num_batches = n

    def get_iterator(self):
        n = self.num_batches
        if n is None:
            i = 0
            while True:
                yield self._standardize(self._dataset[i])
                i += 1
        order = self._rng.permutation(n) if self._shuffle else range(n)
        for i in order:
            yield self._standardize(self._dataset[int(i)])

    def _standardize(self, batch):
        batch = _as_tuple(batch)
        if self._class_weight is not None and isinstance(batch, tuple):
            # As Keras: class weights become the batch's sample weights.
            if len(batch) == 3:
                raise ValueError("You cannot specify `class_weight` and `sample_weight` at the same time.")
            if len(batch) == 2:
                y = batch[1].numpy() if isinstance(batch[1], Tensor) else np.asarray(batch[1])
                batch = batch + (class_weight_to_sample_weights(y, self._class_weight),)
        return to_tensors(batch)

    def on_epoch_begin(self):
        self._dataset.on_epoch_begin()

    def on_epoch_end(self):
        self._dataset.on_epoch_end()


def _is_number_list(v):
    if isinstance(v, (list, tuple)):
        return len(v) > 0 and all(_is_number_list(e) for e in v)
    return isinstance(v, (int, float, bool, np.number)) and not isinstance(v, np.ndarray)


def _lists_to_arrays(v):
    """Python lists of numbers become arrays (lists of arrays stay structures)."""
    if _is_number_list(v):
        return np.asarray(v)
    if isinstance(v, dict):
        return {k: _lists_to_arrays(e) for k, e in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_lists_to_arrays(e) for e in v)
    return v


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None, shuffle=False, class_weight=None, rng=None):
    if isinstance(x, DataAdapter):
        return x
    x, y, sample_weight = _lists_to_arrays(x), _lists_to_arrays(y), _lists_to_arrays(sample_weight)
    if isinstance(x, PyDataset):
        if y is not None:
            raise ValueError("When providing `x` as a PyDataset, `y` should not be passed. Instead, the targets should be included as part of the PyDataset.")
        if sample_weight is not None:
            raise ValueError("`sample_weight` is not supported with a PyDataset; return it from `__getitem__` instead.")
        return PyDatasetAdapter(x, shuffle=shuffle, rng=rng, class_weight=class_weight)
    if is_array_data(x):
        return ArrayDataAdapter(x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight, rng)
    if isinstance(x, (types.GeneratorType,)) or hasattr(x, "__next__") or (
        hasattr(x, "__iter__") and not isinstance(x, (list, tuple, dict, str))
    ):
        if y is not None:
            raise ValueError("When providing `x` as a generator or iterable, `y` should not be passed. The targets come from the batches.")
        if sample_weight is not None:
            raise ValueError("`sample_weight` is not supported with generators; yield `(x, y, sample_weight)` instead.")
        if class_weight is not None:
            raise ValueError(
                f"Argument `class_weight` is not supported for Python generator inputs. Received: class_weight={class_weight}"
            )
        return GeneratorDataAdapter(x)
    if x is None:
        raise ValueError("No data: pass `x` (arrays, a generator, or a PyDataset).")
    flat = tree.flatten(x)
    bad = [type(v).__name__ for v in flat if not (v is None or _is_array(v))]
    raise ValueError(f"Unrecognized data type: x={type(x).__name__} (containing {sorted(set(bad))})")


class EpochIterator:
    """Yields `(step, batch)` for one epoch at a time (Keras semantics for
    `steps_per_epoch`: the underlying iterator persists across epochs and is
    restarted once exhausted; running out of data early stops with a warning)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None, shuffle=False, class_weight=None, rng=None):
        self.steps_per_epoch = steps_per_epoch
        self.data_adapter = get_data_adapter(x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight, rng)
        self._num_batches = self.data_adapter.num_batches
        self._current_iterator = None
        self._steps_seen = 0
        self._insufficient_data = False
        self._first = None

    @property
    def num_batches(self):
        if self.steps_per_epoch:
            return self.steps_per_epoch
        return self._num_batches

    def peek(self):
        """The first batch (kept and yielded again by the first epoch)."""
        if self._first is None:
            self._current_iterator = iter(self.data_adapter.get_iterator())
            self._steps_seen = 0
            try:
                self._first = next(self._current_iterator)
            except StopIteration:
                raise ValueError("The input data is empty: no batch could be drawn from it.")
            self._peeked = True
        return self._first

    def _next(self, iterator):
        if self._first is not None:
            b, self._first = self._first, None
            return b
        return next(iterator)

    def reset(self):
        self._current_iterator = None
        self._first = None
        self._steps_seen = 0
        self._insufficient_data = False

    def __iter__(self):
        self.data_adapter.on_epoch_begin()
        steps = self.steps_per_epoch or self._num_batches or -1
        if steps > 0:
            if self._current_iterator is None or (self.steps_per_epoch is None and self._first is None):
                self._current_iterator = iter(self.data_adapter.get_iterator())
                self._steps_seen = 0
            for step in range(steps):
                if self._num_batches and self._steps_seen >= self._num_batches:
                    if self.steps_per_epoch:
                        self._insufficient()
                    break
                try:
                    batch = self._next(self._current_iterator)
                except StopIteration:
                    self._insufficient()
                    break
                self._steps_seen += 1
                yield step, batch
            if self._num_batches and self._steps_seen >= self._num_batches:
                self._current_iterator = None
                self._steps_seen = 0
        else:
            iterator = self._current_iterator if self._first is not None else iter(self.data_adapter.get_iterator())
            self._current_iterator = None
            step = 0
            while True:
                try:
                    batch = self._next(iterator)
                except StopIteration:
                    break
                if self._num_batches is None and step == 0 and batch is None:
                    break
                yield step, batch
                step += 1
            if step == 0:
                self._insufficient()
            elif self._num_batches is None:
                self._num_batches = step
        self.data_adapter.on_epoch_end()

    def _insufficient(self):
        self._insufficient_data = True
        warnings.warn(
            "Your input ran out of data; interrupting training. Make sure that your dataset or generator "
            "can generate at least `steps_per_epoch * epochs` batches. You may need to use the `.repeat()` "
            "function when building your dataset.",
            stacklevel=2,
        )
