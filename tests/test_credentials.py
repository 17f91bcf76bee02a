"""Stored credentials are sealed with the configured key, or with one kept in the instance folder."""

import os

import pytest
from cryptography.fernet import Fernet

from connector import credentials


def test_a_passphrase_or_a_fernet_key_seals_and_unseals():
    for key in ("correct horse battery staple", Fernet.generate_key().decode()):
        sealer = credentials.Credentials(key)
        sealed = sealer.seal("パスワード")
        assert sealed.startswith("fernet:") and "パスワード" not in sealed
        assert sealer.unseal(sealed) == "パスワード"
        with pytest.raises(ValueError, match="another CONNECTOR_CREDENTIALS_KEY"):
            credentials.Credentials("other").unseal(sealed)
    with pytest.raises(ValueError, match="not a sealed credential"):
        credentials.Credentials("k").unseal("plain text")


def test_without_a_key_one_is_made_once_in_the_instance_folder(tmp_path):
    first = credentials._instance_key(str(tmp_path))
    assert credentials._instance_key(str(tmp_path)) == first
    path = tmp_path / credentials.KEY_FILE
    assert os.stat(path).st_mode & 0o077 == 0 and os.listdir(tmp_path) == [credentials.KEY_FILE]
    sealed = credentials.Credentials(first).seal("x")
    assert credentials.Credentials(path.read_text()).unseal(sealed) == "x"
