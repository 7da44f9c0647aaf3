"""SPEC §11: the client address comes from the peer, or from X-Forwarded-For only when the
peer is in TRUSTED_PROXIES (walked from the right, skipping our own proxies)."""

from ipaddress import ip_network

import pytest

from orgportal.config import Settings, settings
from orgportal.services.client_address import client_address

PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")]


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says():
    assert client_address("203.0.113.5", "198.51.100.1", trusted=[]) == "203.0.113.5"


def test_an_untrusted_peer_cannot_choose_its_address_with_the_header():
    assert client_address("203.0.113.5", "10.0.0.1, 198.51.100.1", PROXIES) == "203.0.113.5"


def test_behind_a_trusted_proxy_the_rightmost_hop_it_added_is_the_client():
    # The client sent "1.1.1.1" itself; only what our proxy appended can be believed.
    assert client_address("10.0.0.2", "1.1.1.1, 198.51.100.7", PROXIES) == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_skipped():
    chain = "198.51.100.7, 10.1.1.1, 10.2.2.2"
    assert client_address("10.0.0.2", chain, PROXIES) == "198.51.100.7"
    assert client_address("2001:db8::1", "2001:db8::9, 2a00::1", PROXIES) == "2a00::1"


def test_repeated_header_lines_joined_with_commas_read_as_one_chain():
    assert client_address("10.0.0.2", "1.1.1.1,198.51.100.7 ,  ", PROXIES) == "198.51.100.7"


def test_a_trusted_peer_without_the_header_is_itself_the_client():
    assert client_address("10.0.0.2", None, PROXIES) == "10.0.0.2"
    assert client_address("10.0.0.2", "", PROXIES) == "10.0.0.2"


def test_only_trusted_hops_give_the_leftmost():
    assert client_address("10.0.0.2", "10.9.9.9, 10.8.8.8", PROXIES) == "10.9.9.9"


def test_addresses_have_one_spelling():
    assert client_address("::ffff:203.0.113.5", None, []) == "203.0.113.5"
    assert client_address("10.0.0.2", "[2A00::1]", PROXIES) == "2a00::1"
    assert client_address("::ffff:10.0.0.2", "198.51.100.7", PROXIES) == "198.51.100.7"
    assert client_address("testclient", "198.51.100.7", PROXIES) == "testclient"
    assert client_address("", None, PROXIES) == "unknown"


def test_the_default_is_the_trusted_proxies_setting(monkeypatch):
    assert client_address("10.0.0.2", "198.51.100.7") == "10.0.0.2"  # default: none trusted
    monkeypatch.setattr(settings, "trusted_proxies", [ip_network("10.0.0.2/32")])
    assert client_address("10.0.0.2", "198.51.100.7") == "198.51.100.7"


def test_trusted_proxies_setting_is_a_comma_separated_list_of_ips_and_networks():
    parsed = Settings(trusted_proxies="10.0.0.0/8, 127.0.0.1,::1").trusted_proxies
    assert parsed == [ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"), ip_network("::1")]
    with pytest.raises(ValueError):
        Settings(trusted_proxies="10.0.0.1/8")  # a typo must stop the start, not trust all
