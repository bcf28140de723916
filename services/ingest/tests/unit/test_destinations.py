"""Where the server connects on a member's behalf: public addresses, and what the
operator allows."""

from __future__ import annotations

import pytest

from commsintel.ingest.domain.destinations import (
    DestinationPolicy,
    DestinationRefused,
    calendar_url_destination,
)

STRICT = DestinationPolicy()


@pytest.mark.parametrize(
    ("address", "what"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fd00::5", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),
    ],
)
def test_non_public_addresses_are_refused_by_default(address, what):
    with pytest.raises(DestinationRefused, match=what):
        STRICT.check("mail.example.com", 993, [address])


def test_public_addresses_pass():
    STRICT.check("mail.example.com", 993, ["93.184.216.34", "2606:2800:220:1::1"])


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    with pytest.raises(DestinationRefused):
        STRICT.check("rebind.example.com", 443, ["93.184.216.34", "127.0.0.1"])


def test_an_operator_allows_networks_and_hosts():
    policy = DestinationPolicy.parse(
        hosts="mail.internal, caldav.internal:8443", networks="127.0.0.0/8,10.1.0.0/16"
    )
    policy.check("x", 1, ["127.0.0.5", "10.1.200.3"])
    policy.check("Mail.Internal.", 993, ["192.168.9.9"])
    policy.check("caldav.internal", 8443, ["192.168.9.9"])
    with pytest.raises(DestinationRefused):
        policy.check("caldav.internal", 443, ["192.168.9.9"])  # another port
    with pytest.raises(DestinationRefused):
        policy.check("x", 1, ["10.2.0.1"])


def test_a_malformed_network_setting_is_an_error():
    with pytest.raises(ValueError):
        DestinationPolicy.parse(networks="10.0.0.0/33")


@pytest.mark.parametrize(
    "url",
    [
        "/etc/passwd",
        "file:///etc/passwd",
        "~/.commsintel/signing.key",
        "ftp://example.com/cal.ics",
        "gopher://127.0.0.1:70/",
        "http://",
        "http://[::1",
    ],
)
def test_a_calendar_url_must_be_http_or_webcal(url):
    with pytest.raises(DestinationRefused) as refused:
        calendar_url_destination(url)
    assert "passwd" not in str(refused.value)  # the answer never names or probes a file


def test_calendar_url_ports_default_by_scheme():
    assert calendar_url_destination("webcal://cal.example.com/x.ics") == (
        "webcal",
        "cal.example.com",
        443,
    )
    assert calendar_url_destination("http://cal.example.com/x.ics")[2] == 80
    assert calendar_url_destination("https://u:p@cal.example.com:8443/")[1:] == (
        "cal.example.com",
        8443,
    )
