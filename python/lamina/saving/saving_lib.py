"""Whole-model files (`.lamina`) and weight files (`.weights.npz`).

A `.lamina` file is a zip archive (the layout follows Keras's `.keras`
format, see keras/src/saving/saving_lib.py):

    metadata.json       {"format_version", "lamina_version", "date_saved", ...}
    config.json         the model's serialized config (every object as
                        {module, class_name, config, registered_name}) with
                        its "compile_config"
    model.weights.npz   named arrays: "<layer path>/vars/<i>" for each layer's
                        own variables, "<layer path>/seed_generators/<attr>"
                        for random-stream states, "optimizer/vars/<i>" for the
                        optimizer's variables (iteration count first) and
                        "trainer/..." for the state `fit` needs to resume.

Layer paths are structural ("layers/dense_1/layers/lstm"), named after the
layer's class (deduplicated by a counter) rather than its auto-generated
name, so weights load into any model built by the same code.

Files are written atomically: into a temporary file in the target folder,
flushed, fsync'ed, then `os.replace`d over the target. Loading never runs
code from the file: arrays are read with `allow_pickle=False`, configs are
plain JSON resolved against registered classes, and Python lambdas (in
`Lambda` layers) are refused unless `safe_mode=False`.
"""

import contextlib
import datetime
import io
import json
import os
import tempfile
import warnings
import zipfile

import numpy as np

from lamina.saving.serialization_lib import DeserializationError, clip_message

FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = (1,)
_METADATA = "metadata.json"
_CONFIG = "config.json"
_WEIGHTS = "model.weights.npz"
_WEIGHTS_META_KEY = "__lamina_metadata__"
_MAX_MEMBER_BYTES = 1 << 34


def _lamina_version():
    import lamina

    return getattr(lamina, "__version__", "unknown")


class ModelLoadError(DeserializationError):
    """A model file could not be loaded: names the file and the problem."""


class UnsafeLoadError(ModelLoadError):
    """Loading would run code from the file (a Lambda layer) in safe mode."""


# ---- atomic writes ---------------------------------------------------------
def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(filepath, write_fn):
    """Calls `write_fn(fileobj)` on a temporary file next to `filepath`, then
    flushes, fsyncs and renames it over `filepath`: readers see the old file
    or the new one, never a partial one."""
    filepath = os.fspath(filepath)
    folder = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(filepath) + ".", suffix=".tmp", dir=folder)
    try:
        # mkstemp makes 0600 files; give the result the usual permissions
        # (the existing file's, else 0666 minus the umask).
        try:
            mode = os.stat(filepath).st_mode & 0o777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


# ---- walking the model's state -----------------------------------------------
def _snake(name):
    from lamina.utils.naming import to_snake_case

    return to_snake_case(name)


def _seed_generators(layer):
    from lamina.random import SeedGenerator

    out = []
    for k, v in layer.__dict__.items():
        if isinstance(v, SeedGenerator):
            out.append((k, v))
    return out


def _walk_layers(layer, prefix, visited, fn):
    """Calls fn(layer, path) on `layer` and, depth first, its sublayers."""
    if id(layer) in visited:
        return
    visited.add(id(layer))
    fn(layer, prefix)
    used = {}
    for sub in layer._sublayers():
        if id(sub) in visited:
            continue
        name = _snake(type(sub).__name__)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        _walk_layers(sub, f"{prefix}/layers/{name}" if prefix else f"layers/{name}", visited, fn)


def _layer_vars(layer):
    out, seen = [], set()
    for v in layer._own_variables():
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _to_numpy(v):
    return np.array(v.numpy())


def collect_model_state(model, include_optimizer=True, include_trainer=True):
    """The model's state as an ordered {name: array} dict."""
    store = {}

    def visit(layer, path):
        base = path or "model"
        for i, v in enumerate(_layer_vars(layer)):
            store[f"{base}/vars/{i}"] = _to_numpy(v)
        for attr, gen in _seed_generators(layer):
            st = gen.get_state()
            store[f"{base}/seed_generators/{attr}"] = np.array([st["seed"], st["counter"]], dtype=np.int64)

    _walk_layers(model, "", set(), visit)
    if include_optimizer and getattr(model, "optimizer", None) is not None and model.optimizer.built:
        for i, v in enumerate(model.optimizer.variables):
            store[f"optimizer/vars/{i}"] = _to_numpy(v)
    if include_trainer:
        seed = getattr(model, "_fit_shuffle_seed", None)
        if seed is not None:
            store["trainer/fit_shuffle_seed"] = np.array([seed], dtype=np.int64)
    return store


def apply_model_state(model, store, skip_mismatch=False, include_optimizer=True, filepath="<weights>"):
    """Assigns the arrays in `store` (from `collect_model_state`) to `model`."""
    used = set()
    problems = []

    def fail(msg):
        if skip_mismatch:
            warnings.warn(f"Skipping while loading '{filepath}': {msg}", stacklevel=4)
        else:
            problems.append(msg)

    def visit(layer, path):
        base = path or "model"
        variables = _layer_vars(layer)
        saved = []
        i = 0
        while f"{base}/vars/{i}" in store:
            saved.append(store[f"{base}/vars/{i}"])
            i += 1
        if len(saved) != len(variables):
            fail(
                f"layer '{layer.name}' (path '{base}') expects {len(variables)} variables but the file has "
                f"{len(saved)} for it."
            )
            if not skip_mismatch:
                return
        for j, (v, arr) in enumerate(zip(variables, saved)):
            used.add(f"{base}/vars/{j}")
            if tuple(arr.shape) != tuple(v.shape):
                fail(
                    f"shape mismatch for variable '{v.path}' of layer '{layer.name}': expected "
                    f"{tuple(v.shape)}, the file has {tuple(arr.shape)}."
                )
                continue
            v.assign(arr.astype(np.dtype(v.dtype), copy=False))
        for attr, gen in _seed_generators(layer):
            key = f"{base}/seed_generators/{attr}"
            if key in store:
                used.add(key)
                st = store[key]
                if st.shape == (2,):
                    gen.set_state({"seed": int(st[0]), "counter": int(st[1])})

    _walk_layers(model, "", set(), visit)
    opt_keys = sorted((k for k in store if k.startswith("optimizer/vars/")), key=lambda k: int(k.rsplit("/", 1)[1]))
    if include_optimizer and opt_keys and getattr(model, "optimizer", None) is not None:
        opt = model.optimizer
        if not opt.built:
            opt.build(model.trainable_weights)
        variables = opt.variables
        if len(variables) != len(opt_keys):
            warnings.warn(
                f"Skipping the optimizer state in '{filepath}': the optimizer has {len(variables)} variables "
                f"but the file has {len(opt_keys)} (the trainable weights or optimizer settings differ).",
                stacklevel=3,
            )
        else:
            for v, k in zip(variables, opt_keys):
                arr = store[k]
                if tuple(arr.shape) != tuple(v.shape):
                    problems.append(f"optimizer variable '{v.path}' expects shape {tuple(v.shape)}, file has {arr.shape}")
                    continue
                v.assign(arr.astype(np.dtype(v.dtype), copy=False))
    used.update(opt_keys)
    if "trainer/fit_shuffle_seed" in store:
        used.add("trainer/fit_shuffle_seed")
        model._fit_shuffle_seed = int(store["trainer/fit_shuffle_seed"][0])
    leftover = [k for k in store if k not in used and "/seed_generators/" not in k and k != _WEIGHTS_META_KEY]
    if leftover:
        fail(f"the file has {len(leftover)} arrays that match no variable of the model: {leftover[:5]}")
    if problems:
        raise ValueError(
            f"Cannot load weights from '{filepath}' into model '{model.name}':\n  - " + "\n  - ".join(problems)
            + "\nPass skip_mismatch=True to load the matching weights only."
        )


# ---- archives ----------------------------------------------------------------
def _npz_bytes(store):
    buf = io.BytesIO()
    np.savez(buf, **store)
    return buf.getvalue()


def _json_default(o):
    if isinstance(o, tuple):
        return list(o)
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _model_config(model):
    from lamina.saving.serialization_lib import serialize_keras_object

    config = serialize_keras_object(model)
    compile_config = None
    if getattr(model, "compiled", False):
        try:
            compile_config = model.get_compile_config()
            json.dumps(compile_config, default=_json_default)
        except Exception as e:  # noqa: BLE001 - an unserializable loss should not block saving weights
            warnings.warn(f"The compile settings could not be serialized and are not saved: {e}", stacklevel=3)
            compile_config = None
    config["compile_config"] = compile_config
    return config


# Whole-model paths save_model takes: ".keras" (from ported Keras scripts)
# holds lamina's archive too, with a warning.
MODEL_EXTENSIONS = (".lamina", ".keras")


def save_model(model, filepath, overwrite=True, zipped=True, **kwargs):
    """Saves `model` (architecture, weights, optimizer state, compile
    settings) to a `.lamina` archive, atomically."""
    filepath = os.fspath(filepath)
    if filepath.endswith(".keras"):
        # Ported Keras scripts save to "x.keras": write lamina's archive there
        # rather than fail at the end of a training run, and say what it is.
        warnings.warn(
            f"Saving to '{filepath}' in lamina's format (a zip laid out like Keras's, weights as npz): "
            "lamina.models.load_model reads it, Keras cannot. Use the `.lamina` extension to make that plain.",
            UserWarning, stacklevel=3,
        )
    elif not filepath.endswith(MODEL_EXTENSIONS):
        raise ValueError(
            f"Invalid filepath extension for saving. Please add the `.lamina` extension to the path "
            f"(received: filepath={filepath}). Use `model.save_weights('x.weights.npz')` for weights only."
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"'{filepath}' exists and overwrite=False.")
    config = _model_config(model)
    config_bytes = json.dumps(config, default=_json_default).encode("utf-8")
    weights_bytes = _npz_bytes(collect_model_state(model))
    metadata = {
        "format_version": FORMAT_VERSION,
        "lamina_version": _lamina_version(),
        "date_saved": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d@%H:%M:%S"),
        "class_name": type(model).__name__,
    }

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(_METADATA, json.dumps(metadata, indent=1))
            zf.writestr(_CONFIG, config_bytes)
            zf.writestr(_WEIGHTS, weights_bytes)

    atomic_write(filepath, write)


def _read_member(zf, name, filepath):
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ValueError(
            f"'{filepath}' is not a lamina model archive (no '{name}' inside; it holds {zf.namelist()[:5]})."
        ) from None
    if info.file_size > _MAX_MEMBER_BYTES:
        raise ValueError(f"'{filepath}' is corrupted: member '{name}' claims {info.file_size} bytes.")
    return zf.read(name)


def _load_npz(data, filepath, what):
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: np.asarray(npz[k]) for k in npz.files}
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"'{filepath}' is corrupted: cannot read its {what} ({type(e).__name__}: {e}).") from e


def read_archive(filepath):
    """(metadata, config, weights store) of a `.lamina` archive; clear
    ValueErrors for anything that is not a valid, supported archive."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file or directory found at '{filepath}'.")
    if os.path.isdir(filepath):
        raise ValueError(f"'{filepath}' is a directory, not a lamina model archive.")
    try:
        with zipfile.ZipFile(filepath, "r") as zf:
            meta_bytes = _read_member(zf, _METADATA, filepath)
            try:
                metadata = json.loads(meta_bytes.decode("utf-8"))
            except Exception as e:  # noqa: BLE001
                raise ValueError(f"'{filepath}' is corrupted: unreadable metadata.json ({e}).") from e
            if isinstance(metadata, dict) and "keras_version" in metadata:
                raise ValueError(
                    f"'{filepath}' was saved by Keras {metadata['keras_version']}: lamina reads its own archives "
                    "only. Rebuild the model in lamina and move the weights with get_weights/set_weights."
                )
            if not isinstance(metadata, dict) or "format_version" not in metadata:
                raise ValueError(f"'{filepath}' is not a lamina model archive (metadata.json has no format_version).")
            version = metadata["format_version"]
            if not isinstance(version, int) or isinstance(version, bool):
                raise ValueError(f"'{filepath}' is corrupted: invalid format_version {version!r}.")
            if version not in SUPPORTED_FORMAT_VERSIONS:
                raise ValueError(
                    f"'{filepath}' uses lamina file format version {version} (written by lamina "
                    f"{metadata.get('lamina_version', '?')}); this lamina ({_lamina_version()}) reads versions "
                    f"{list(SUPPORTED_FORMAT_VERSIONS)}. Upgrade lamina to load it."
                )
            config_bytes = _read_member(zf, _CONFIG, filepath)
            weights_bytes = _read_member(zf, _WEIGHTS, filepath)
    except ValueError:
        raise
    except OSError as e:
        if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise ValueError(
            f"Cannot read '{filepath}': the archive is corrupted or truncated ({type(e).__name__}: {e})."
        ) from e
    except zipfile.BadZipFile as e:
        raise ValueError(f"'{filepath}' is not a valid lamina model archive (not a readable zip file: {e}).") from e
    except Exception as e:  # noqa: BLE001 - zipfile/zlib raise many kinds on damaged data
        raise ValueError(f"'{filepath}' is corrupted ({type(e).__name__}: {e}).") from e
    try:
        config = json.loads(config_bytes.decode("utf-8"))
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"'{filepath}' is corrupted: unreadable config.json ({e}).") from e
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"'{filepath}' is corrupted: config.json does not describe a model.")
    store = _load_npz(weights_bytes, filepath, "weights")
    return metadata, config, store


@contextlib.contextmanager
def _safe_mode_scope(safe_mode):
    from lamina.backend import config as backend_config

    old = backend_config._SAFE_MODE["value"]
    if safe_mode is not None:
        backend_config._SAFE_MODE["value"] = bool(safe_mode)
    try:
        yield
    finally:
        backend_config._SAFE_MODE["value"] = old


def _lambda_layer_classes():
    from lamina.layers.core.lambda_layer import Lambda

    return Lambda


def _is_lambda_config(c, custom_objects):
    """True for the config of a Lambda layer (or a subclass of it), whatever
    function it wraps: the function is resolved by name at load time, and a
    name can be bound to anything in the loading process."""
    if c.get("class_name") == "__lambda__":
        return True
    class_name, registered = c.get("class_name"), c.get("registered_name")
    if class_name == "Lambda":
        return True
    if not isinstance(class_name, str) or "config" not in c:
        return False
    from lamina.saving.serialization_lib import get_registered_object

    key = registered if isinstance(registered, str) else class_name
    cls = get_registered_object(key, custom_objects) or get_registered_object(class_name, custom_objects)
    return isinstance(cls, type) and issubclass(cls, _lambda_layer_classes())


def _check_lambdas(config, filepath, safe_mode, custom_objects=None):
    if not safe_mode:
        return
    stack = [config]
    while stack:
        c = stack.pop()
        if isinstance(c, dict):
            if _is_lambda_config(c, custom_objects):
                inner = c.get("config")
                name = inner.get("name") if isinstance(inner, dict) else None
                what = f"the Lambda layer '{name}'" if isinstance(name, str) else "a Lambda layer"
                raise UnsafeLoadError(
                    f"'{filepath}' contains {what}. A Lambda layer runs an arbitrary Python "
                    "function, so loading it is refused in safe mode. If you trust the source of the file, "
                    "pass `safe_mode=False` to `load_model`."
                )
            stack.extend(c.values())
        elif isinstance(c, (list, tuple)):
            stack.extend(c)


def _deserialize_model(config, custom_objects, safe_mode, filepath):
    from lamina.saving.serialization_lib import deserialize_keras_object

    _check_lambdas(config, filepath, safe_mode, custom_objects)
    with _safe_mode_scope(safe_mode):
        return deserialize_keras_object(config, custom_objects=custom_objects, safe_mode=safe_mode)


@contextlib.contextmanager
def _variable_size_limit(store):
    """Every variable of the model matches an array of the file, so none can
    be larger than the largest one (small ones, e.g. metric state, are always
    allowed): a crafted config asking for a huge layer fails before memory
    is allocated."""
    from lamina.backend import variables

    limit = max([int(a.size) for a in store.values()] + [1 << 20])
    old = getattr(variables._creation_limit, "value", None)
    variables._creation_limit.value = limit
    try:
        yield
    finally:
        variables._creation_limit.value = old


def _restore(filepath, config, store, custom_objects, compile, safe_mode):
    with _variable_size_limit(store):
        return _restore_model(filepath, config, store, custom_objects, compile, safe_mode)


def _restore_model(filepath, config, store, custom_objects, compile, safe_mode):
    from lamina.models.model import Model
    from lamina.saving.serialization_lib import CustomObjectScope

    compile_config = config.pop("compile_config", None)
    model = _deserialize_model(config, custom_objects, safe_mode, filepath)
    if not isinstance(model, Model):
        raise ModelLoadError(f"'{filepath}': config.json describes a {type(model).__name__}, not a model.")
    if not model.built:
        raise ModelLoadError(
            f"'{filepath}': the model '{model.name}' could not be built from its config, so its weights cannot "
            "be restored. Make sure the model class implements `build()` or `build_from_config()`."
        )
    compile = compile and bool(compile_config)
    if compile:
        if not isinstance(compile_config, dict):
            raise ModelLoadError(f"'{filepath}': invalid compile_config {compile_config!r:.200}.")
        with CustomObjectScope(custom_objects or {}):
            model.compile_from_config(compile_config)
    apply_model_state(model, store, include_optimizer=compile, filepath=filepath)
    if not compile:
        model._fit_shuffle_seed = None
    return model


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with `model.save("x.lamina")`: architecture,
    weights, optimizer state and (with `compile=True`) compile settings.

    Any problem with the file's contents raises a `ModelLoadError` (a
    ValueError) that names the file and, where known, the class and layer."""
    filepath = os.fspath(filepath)
    if filepath.endswith(".weights.npz"):
        raise ModelLoadError(
            f"'{filepath}' is a weights file; build the model and call `model.load_weights('{filepath}')`."
        )
    if filepath.endswith((".h5", ".hdf5")):
        raise ModelLoadError(f"'{filepath}': lamina reads its own `.lamina` archives only, not Keras/HDF5 files.")
    try:
        metadata, config, store = read_archive(filepath)
    except ValueError as e:
        if isinstance(e, ModelLoadError):
            raise
        raise ModelLoadError(str(e)) from e
    try:
        return _restore(filepath, dict(config), store, custom_objects, compile, safe_mode)
    except ModelLoadError:
        raise
    except Exception as e:  # noqa: BLE001 - a crafted config must not surface as a raw TypeError/KeyError
        where = "" if filepath in str(e) else f" in '{filepath}'"
        kind = "" if isinstance(e, ValueError) else f" ({type(e).__name__})"
        raise ModelLoadError(f"Cannot load the model{where}: {clip_message(str(e), 1000)}{kind}") from e


# ---- weights-only files ------------------------------------------------------
def save_weights(model, filepath, overwrite=True):
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.npz"):
        raise ValueError(
            f"The filename must end in `.weights.npz`. Received: filepath={filepath}"
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"'{filepath}' exists and overwrite=False.")
    store = collect_model_state(model, include_optimizer=False, include_trainer=False)
    meta = {"format_version": FORMAT_VERSION, "lamina_version": _lamina_version(), "kind": "weights"}
    store[_WEIGHTS_META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)

    def write(f):
        np.savez(f, **store)

    atomic_write(filepath, write)


def load_weights(model, filepath, skip_mismatch=False):
    filepath = os.fspath(filepath)
    if filepath.endswith(".lamina"):
        _, _, store = read_archive(filepath)
        apply_model_state(model, store, skip_mismatch=skip_mismatch, include_optimizer=False, filepath=filepath)
        return
    if not filepath.endswith(".weights.npz"):
        raise ValueError(
            f"File format not supported: filepath={filepath}. lamina loads `.weights.npz` and `.lamina` files."
        )
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file found at '{filepath}'.")
    try:
        with open(filepath, "rb") as f:
            data = f.read()
    except IsADirectoryError:
        raise ValueError(f"'{filepath}' is a directory, not a weights file.") from None
    try:
        store = _load_npz(data, filepath, "weights")
    except ValueError as e:
        if "is corrupted" in str(e):
            raise ValueError(f"'{filepath}' is not a valid lamina weights file (corrupted or not an .npz).") from e
        raise
    meta_arr = store.pop(_WEIGHTS_META_KEY, None)
    if meta_arr is None:
        raise ValueError(f"'{filepath}' is not a lamina weights file (no lamina metadata inside).")
    try:
        meta = json.loads(bytes(meta_arr.astype(np.uint8)).decode("utf-8"))
        version = meta["format_version"]
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"'{filepath}' is corrupted: unreadable metadata ({e}).") from e
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise ValueError(
            f"'{filepath}' uses lamina weights format version {version}; this lamina reads "
            f"{list(SUPPORTED_FORMAT_VERSIONS)}."
        )
    apply_model_state(model, store, skip_mismatch=skip_mismatch, include_optimizer=False, filepath=filepath)


# ---- training-state backups (BackupAndRestore) ---------------------------------
_STATE_META = "training_state.json"


def save_training_state(model, filepath, training_metadata):
    """Weights, optimizer and RNG state plus `training_metadata` (epoch,
    batch) in one archive, written atomically (no model config needed)."""
    weights_bytes = _npz_bytes(collect_model_state(model))
    meta = {
        "format_version": FORMAT_VERSION,
        "lamina_version": _lamina_version(),
        "kind": "training_state",
        **training_metadata,
    }

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(_STATE_META, json.dumps(meta))
            zf.writestr(_WEIGHTS, weights_bytes)

    atomic_write(filepath, write)


def load_training_state(model, filepath):
    """Restores a `save_training_state` archive into `model`; returns its
    training metadata."""
    filepath = os.fspath(filepath)
    try:
        with zipfile.ZipFile(filepath, "r") as zf:
            meta = json.loads(_read_member(zf, _STATE_META, filepath).decode("utf-8"))
            weights_bytes = _read_member(zf, _WEIGHTS, filepath)
    except (ValueError, FileNotFoundError):
        raise
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"The backup '{filepath}' is corrupted ({type(e).__name__}: {e}).") from e
    if not isinstance(meta, dict) or meta.get("format_version") not in SUPPORTED_FORMAT_VERSIONS:
        raise ValueError(f"The backup '{filepath}' has an unsupported format version.")
    store = _load_npz(weights_bytes, filepath, "weights")
    apply_model_state(model, store, filepath=filepath)
    return meta
