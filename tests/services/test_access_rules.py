"""The rule an organization's Security settings (SPEC §13) hold its members to: the IP
allowlist parsed and matched (`services/access_rules.py`); who may edit the settings and
their enforcement are in test_org_security.py."""

from ipaddress import ip_network

import pytest

from orgportal.services.access_rules import address_allowed, format_allowlist, parse_allowlist
from orgportal.services.errors import ValidationFailed


def test_allowlist_parses_addresses_and_ranges_of_both_families():
    networks = parse_allowlist("203.0.113.7\n198.51.100.0/24, 2001:db8::/32\n\n[2001:db8::1]\n")
    assert networks == [
        ip_network("203.0.113.7/32"),
        ip_network("198.51.100.0/24"),
        ip_network("2001:db8::/32"),
        ip_network("2001:db8::1/128"),
    ]
    assert format_allowlist(networks) == (
        "203.0.113.7\n198.51.100.0/24\n2001:db8::/32\n2001:db8::1"
    )
    assert parse_allowlist("10.0.0.1\n10.0.0.1") == [ip_network("10.0.0.1/32")]


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("example.com", "“example.com” is not an IP address or CIDR range."),
        ("10.0.0.300", "not an IP address"),
        ("10.0.0.0/33", "not an IP address"),
        ("10.0.0.5/24", "did you mean 10.0.0.0/24?"),
        ("2001:db8::1/32", "did you mean 2001:db8::/32?"),
    ],
)
def test_allowlist_refuses_bad_entries_naming_them(raw, says):
    with pytest.raises(ValidationFailed) as refused:
        parse_allowlist(f"192.0.2.1\n{raw}")
    assert says in refused.value.errors["ip_allowlist"]


def test_allowlist_is_capped():
    with pytest.raises(ValidationFailed, match="At most 100"):
        parse_allowlist("\n".join(f"10.0.{i // 256}.{i % 256}" for i in range(101)))


def test_matching_ipv4_ipv6_and_ranges():
    networks = parse_allowlist("198.51.100.0/24\n2001:db8::/32\n203.0.113.7")
    assert address_allowed("198.51.100.200", networks)
    assert address_allowed("203.0.113.7", networks)
    assert not address_allowed("203.0.113.8", networks)
    assert address_allowed("2001:db8:1234::5", networks)
    assert address_allowed("[2001:db8::9]", networks)
    assert not address_allowed("2001:db9::1", networks)
    assert address_allowed("::ffff:198.51.100.3", networks)  # IPv4-mapped is IPv4
    assert not address_allowed("unknown", networks)
    assert not address_allowed("", networks)
    assert address_allowed("anything", [])  # empty list: every address


