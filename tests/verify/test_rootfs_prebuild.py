"""Set-up builds the sandbox rootfs while llama.cpp compiles, through the app's own builder."""

from __future__ import annotations

from deepcode_tui.errors import SandboxError


def test_the_set_up_prebuild_prints_the_rootfs_path_or_why_not(monkeypatch, capsys, tmp_path):
    from deepcode_tui.verify.sandbox import rootfs

    monkeypatch.setattr(rootfs, "ensure_rootfs", lambda log: tmp_path)
    assert rootfs.main() == 0 and capsys.readouterr().out.splitlines()[-1] == str(tmp_path)

    def cannot(log):
        raise SandboxError("debootstrap is not installed", "apt-get install debootstrap")

    monkeypatch.setattr(rootfs, "ensure_rootfs", cannot)
    assert rootfs.main() == 1
    assert "debootstrap is not installed" in capsys.readouterr().out.splitlines()[-1]
