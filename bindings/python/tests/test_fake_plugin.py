"""The ctypes layer and the plugin search order, against fake plugins."""

import ctypes
import os

import pytest

import nat_trainer_adapter as nta
from nat_trainer_adapter import loader


def counter(plugin, name, ctype=ctypes.c_int):
    return ctype.in_dll(plugin._lib, name).value


@pytest.fixture
def fake(build_fake, tmp_path):
    return nta.load_plugin(build_fake(tmp_path, "fake_trainer_adapter"))


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv(loader.PATH_ENV, raising=False)
    # An empty installed dir keeps real installed plugins out of the tests.
    monkeypatch.setenv(loader.INSTALLED_DIR_ENV, str(tmp_path / "no-installed-plugins"))
    monkeypatch.setattr(loader, "build_tree_dir", lambda: None)


def test_plugin_info(fake):
    assert fake.name == "fake_trainer_adapter"
    assert fake.backend == "fake"
    assert fake.abi == (1, 1)
    assert fake.info["abi"] == "1.1"


def test_full_cycle_against_fake(fake):
    freed_before = counter(fake, "fake_buffers_freed")
    with fake.create({"_type": "fake_trainer_adapter"}) as a:
        a.initialize({})
        assert a.is_healthy() is True
        ref = a.submit(nta.TrajectoryCollection(trajectories=[], run_id="r1"))
        assert ref == nta.TrainingJobRef("r1", "fake", {"job_id": 1})
        events = list(a.events(ref))
        assert [e["type"] for e in events] == ["started", "step", "completed"]
        assert events[-1]["final"] is True
        assert counter(fake, "fake_last_timeout", ctypes.c_double) < 0  # waits without limit
        st = a.wait(ref, poll_interval=0.1, timeout=30)
        assert st.status is nta.TrainingStatus.COMPLETED and st.progress == 100.0
        assert counter(fake, "fake_last_timeout", ctypes.c_double) == 30.0
        assert a.status(ref.to_dict()) == st
        assert a.status('{"run_id":"r1","backend":"fake"}') == st
        assert a.status(st) == st  # a status is accepted as its own reference
        a.cancel(ref)
        assert a.jobs() == [(ref, st)]
    assert a.closed
    # submit, 3 events, wait, 3 status, jobs: every buffer was freed at once.
    assert counter(fake, "fake_buffers_freed") - freed_before == 9
    assert counter(fake, "fake_destroyed") >= 1


def test_errors_are_raised_and_freed(fake):
    a = nta.Adapter({"_type": "x"}, plugin=fake)
    before = counter(fake, "fake_errors_freed")
    with pytest.raises(nta.NotFound, match="no job with run_id 'nope'") as ei:
        a.status({"run_id": "nope", "backend": "fake"})
    assert ei.value.code == 2
    with pytest.raises(nta.Internal) as ei:
        a.cancel({"run_id": "weird", "backend": "fake"})
    assert ei.value.code == 42
    with pytest.raises(nta.DeadlineExceeded):
        a.wait({"run_id": "r1", "backend": "fake"}, timeout=0)
    with pytest.raises(nta.Unavailable, match="Failed to connect to ART backend."):
        a.initialize({"unreachable": True})
    with pytest.raises(nta.InvalidArgument, match="must be from 'user' or 'system'"):
        a.submit({"run_id": "r", "trajectories": [[{"episode": [
            {"role": "assistant", "content": "first", "logprobs": {}, "metadata": None}], "reward": 1}]]})
    with pytest.raises(nta.InvalidArgument, match="metrics must be a JSON object"):
        a.log_progress({"run_id": "r1", "backend": "fake"}, [])
    assert counter(fake, "fake_errors_freed") - before == 6
    a.close()
    with pytest.raises(nta.FailedPrecondition, match="closed"):
        a.is_healthy()
    a.close()  # idempotent


def test_create_error(fake):
    with pytest.raises(nta.InvalidArgument, match="bad config") as ei:
        nta.Adapter({"fail": True}, plugin=fake)
    assert ei.value.code == nta._ffi.INVALID_ARGUMENT


def test_convert_copies_bytes_exactly(fake):
    with fake.create("{}") as a:
        assert a.convert({"a": [1, 2]}) == {"a": [1, 2]}
        raw = b'{"s":"\\u0000 inside"}'
        assert a.convert(raw) == {"s": "\x00 inside"}


def test_resubmit_passes_the_path_with_its_length(fake, tmp_path):
    errors_before = counter(fake, "fake_errors_freed")
    buffers_before = counter(fake, "fake_buffers_freed")
    with fake.create("{}") as a:
        path = tmp_path / "spool" / "r1-1.json"
        assert a.resubmit(path) == nta.TrainingJobRef("r1", "fake", {"job_id": 1})
        assert counter(fake, "fake_last_spool_path", ctypes.c_char * 512).decode() == str(path)
        assert counter(fake, "fake_last_spool_path_len", ctypes.c_size_t) == len(os.fsencode(path))
        a.resubmit(str(path))
        a.resubmit(os.fsencode(path))
        with pytest.raises(nta.NotFound) as ei:
            a.resubmit("/no/such/missing.json")
        assert ei.value.code == 2
        assert "/no/such/missing.json" in ei.value.message
    assert counter(fake, "fake_buffers_freed") - buffers_before == 3
    assert counter(fake, "fake_errors_freed") - errors_before == 1


def test_abi_1_0_plugin_loads_without_the_1_1_functions(build_fake, tmp_path):
    # Its minor says resubmit and spooled do not exist: they are not looked up.
    old = nta.load_plugin(build_fake(tmp_path, "old_adapter", defines=["FAKE_ABI_1_0"]))
    assert old.abi == (1, 0)
    assert old.info["abi"] == "1.0"
    assert old.fns.resubmit is None and old.fns.spooled is None
    with old.create("{}") as a:
        assert a.submit({"run_id": "r1", "trajectories": []}).run_id == "r1"
        with pytest.raises(nta.FailedPrecondition, match="does not implement nat_trainer_adapter_resubmit"):
            a.resubmit(tmp_path / "r1.json")
        with pytest.raises(nta.FailedPrecondition, match="does not implement nat_trainer_adapter_spooled"):
            a.spooled()


def test_abi_1_1_plugin_lacking_a_1_1_function_is_refused(build_fake, tmp_path):
    with pytest.raises(nta.PluginLoadError, match="ABI 1.1 function nat_trainer_adapter_spooled is missing"):
        nta.load_plugin(build_fake(tmp_path, "liar_adapter", defines=["FAKE_WITHOUT_SPOOLED"]))


def test_spooled_passes_the_directory_or_null(fake, tmp_path):
    with fake.create("{}") as a:
        assert a.spooled()["spool_dir_source"] == "default"
        assert a.spooled(tmp_path)["spool_dir_source"] == "argument"


def test_log_progress_output_dir(fake, tmp_path):
    with fake.create("{}") as a:
        a.log_progress({"run_id": "r1", "backend": "fake"}, {"loss": 1.0}, output_dir=tmp_path / "out")
        assert counter(fake, "fake_last_dir", ctypes.c_char * 512).decode() == str(tmp_path / "out")
        a.log_progress({"run_id": "r1", "backend": "fake"}, {"loss": 1.0})
        assert counter(fake, "fake_last_dir", ctypes.c_char * 512) == b"(null)"


def test_next_event_timeout(fake):
    with fake.create("{}") as a:
        ref = {"run_id": "silent", "backend": "fake"}
        assert a.next_event(ref, timeout=0) is None
        assert counter(fake, "fake_last_timeout", ctypes.c_double) == 0.0
        # No event in time while the job still runs... the fake's job is
        # always "completed", so the iterator ends instead of raising.
        assert list(a.events(ref, timeout=0.01)) == []


def test_abi_major_mismatch(build_fake, tmp_path):
    path = build_fake(tmp_path, "future_adapter", abi=0x20000)
    with pytest.raises(nta.PluginLoadError, match="ABI 2.0"):
        nta.load_plugin(path)


def test_not_a_plugin(cc, tmp_path):
    src = tmp_path / "other.c"
    src.write_text("int something(void) { return 1; }\n")
    so = tmp_path / "libother.so"
    import subprocess
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    with pytest.raises(nta.PluginLoadError, match="not a trainer adapter plugin"):
        nta.load_plugin(so)
    with pytest.raises(nta.PluginNotFound):
        nta.load_plugin(tmp_path / "missing.so")


def test_search_order(build_fake, tmp_path, monkeypatch, clean_env):
    explicit, own, env1, env2, installed, tree = (
        tmp_path / d for d in ("explicit", "own", "env1", "env2", "inst", "tree"))
    p_explicit = build_fake(explicit, "alpha")
    p_own_alpha = build_fake(own, "alpha")
    p_own = build_fake(own, "eta")
    p_env1_eta = build_fake(env1, "eta")
    p_own_theta = build_fake(own, "theta")
    p_env1 = build_fake(env1, "alpha")
    p_env1b = build_fake(env1, "beta")
    p_env2 = build_fake(env2, "gamma")
    build_fake(installed, "gamma")
    p_inst = build_fake(installed, "delta")
    build_fake(tree, "delta")
    p_tree = build_fake(tree, "epsilon")
    build_fake(explicit, "zeta", abi=0x20000)  # wrong major: skipped
    p_zeta = build_fake(env2, "zeta")
    (explicit / "README.so").write_text("not an ELF file")  # skipped

    monkeypatch.setenv(loader.PATH_ENV, f"{env1}{os.pathsep}{os.pathsep}{env2}")
    monkeypatch.setattr(loader, "build_tree_dir", lambda: tree)
    monkeypatch.setattr(loader, "package_plugin_dir", lambda: own)

    # The host's order; the package's own plugins are installed ones.
    assert loader.search_path([explicit], installed_dir=installed) == [explicit, env1, env2, own, installed, tree]

    def find(name):
        return nta.find_plugin(name, [explicit], installed_dir=installed).path

    assert find("alpha") == str(p_explicit)
    assert find("beta") == str(p_env1b)
    assert find("gamma") == str(p_env2)
    assert find("delta") == str(p_inst)
    assert find("epsilon") == str(p_tree)
    assert find("zeta") == str(p_zeta)
    # The environment's plugins come before the package's own, which come before the other installed ones.
    assert find("eta") == str(p_env1_eta)
    assert find("theta") == str(p_own_theta)
    assert p_own != p_env1_eta
    with pytest.raises(nta.PluginNotFound, match="no trainer adapter plugin named 'omega'"):
        find("omega")
    assert p_env1 != p_explicit

    # Without an explicit dir, the environment's plugin; without that, the package's own.
    assert nta.find_plugin("alpha", installed_dir=installed).path == str(p_env1)
    monkeypatch.setenv(loader.PATH_ENV, str(env2))
    assert nta.find_plugin("alpha", installed_dir=installed).path == str(p_own_alpha)
    monkeypatch.setenv(loader.PATH_ENV, f"{env1}{os.pathsep}{env2}")
    monkeypatch.setattr(loader, "package_plugin_dir", lambda: None)

    # The installed dir from the environment variable.
    monkeypatch.setenv(loader.INSTALLED_DIR_ENV, str(installed))
    assert nta.find_plugin("delta").path == str(p_inst)

    # Adapter() finds its plugin by the config's _type.
    with nta.Adapter({"_type": "epsilon"}) as a:
        assert a.plugin.path == str(p_tree)
    with nta.Adapter({"_type": "nothing"}, plugin="beta") as a:
        assert a.plugin.path == str(p_env1b)


def test_writable_directories_and_files_are_refused_as_by_the_host(build_fake, tmp_path, clean_env):
    # Whoever can write a plugin file or its directory runs code in every process that searches there.
    shared, safe = tmp_path / "shared", tmp_path / "safe"
    build_fake(shared, "in_shared")
    p_open = build_fake(safe, "open_file")
    p_kept = build_fake(safe, "kept")
    os.chmod(shared, 0o777)
    os.chmod(p_open, 0o666)
    assert nta.find_plugin("kept", [shared, safe]).path == str(p_kept)
    with pytest.raises(nta.PluginNotFound) as refused:
        nta.find_plugin("in_shared", [shared, safe])
    assert (f"refused {shared}: plugin directory is writable by group or others (mode 0777); "
            "none of its plugins are loaded") in str(refused.value)
    with pytest.raises(nta.PluginNotFound) as refused:
        nta.find_plugin("open_file", [shared, safe])
    assert f"refused {p_open}: plugin file is writable by group or others (mode 0666); not loaded" in str(
        refused.value)
    assert [p.name for p in nta.iter_plugins([shared, safe])] == ["kept"]
    # A directory asked for that is missing is named too; a file of another suffix is not tried.
    (safe / "libnotes.so.txt").write_text("not a plugin")
    with pytest.raises(nta.PluginNotFound, match=r"refused .*missing: plugin directory \(search_dirs\) cannot be read"):
        nta.find_plugin("nothing", [tmp_path / "missing", safe])
    os.chmod(shared, 0o755)
    os.chmod(p_open, 0o644)
    assert nta.find_plugin("in_shared", [shared]).name == "in_shared"
    assert nta.find_plugin("open_file", [safe]).name == "open_file"


def test_env_path_ignored_when_setuid(build_fake, tmp_path, monkeypatch, clean_env):
    env1 = tmp_path / "env1"
    build_fake(env1, "only_in_env")
    monkeypatch.setenv(loader.PATH_ENV, str(env1))
    assert nta.find_plugin("only_in_env").name == "only_in_env"
    monkeypatch.setattr(loader, "is_secure_execution", lambda: True)
    assert env1 not in loader.search_path()
    with pytest.raises(nta.PluginNotFound):
        nta.find_plugin("only_in_env")


def test_default_dirs():
    dirs = [str(d) for d in loader.default_installed_dirs()]
    assert any(d.endswith("/lib/x86_64-linux-gnu/nat-trainer-adapter/plugins") or "-linux-gnu/" in d for d in dirs)
    assert "/usr/local/lib/" + loader._multiarch() + "/nat-trainer-adapter/plugins" in dirs
    assert loader.is_secure_execution() is False


def test_package_plugin_dir_is_next_to_the_module():
    d = loader.package_plugin_dir()
    own = loader.Path(loader.__file__).resolve().parent / "plugins"
    assert d == (own if own.is_dir() else None)


def test_build_tree_dir_found_from_source_checkout():
    d = loader.build_tree_dir()
    repo = loader.Path(loader.__file__).resolve().parents[4]
    if (repo / "build" / "plugin").is_dir():
        assert d == repo / "build" / "plugin"
    else:
        assert d is None
