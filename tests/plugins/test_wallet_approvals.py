"""Unit tests for the wallet_approvals page detector: scripts that ask for an unlimited token allowance."""

from __future__ import annotations

import pytest

from tests.plugins.detector_helpers import MALICIOUS, SUSPICIOUS, html_doc, page_findings, verdict

from fraudwall.plugins import wallet_approvals

SPENDER = "0x7a3B9f2C1d4E5F60718293A4b5C6d7E8f9012345"
USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"


def _page(script: str, text: str = "<h1>Liquidity mining</h1><button id=go>Receive voucher</button>") -> str:
    return html_doc(f"{text}<script>{script}</script>")


@pytest.mark.parametrize("amount", [
    "ethers.constants.MaxUint256", "'0x" + "f" * 64 + "'",
    "'115792089237316195423570985008687907853269984665640564039457584007913129639935'",
    "2n ** 256n - 1n", "'f'.repeat(64)",
])
def test_unlimited_approval_to_a_written_spender_is_found(amount: str) -> None:
    """Every spelling of 2^256-1 in an approve call, after eth_requestAccounts, to a spender in the page: suspicious
    on its own, with the spender as an indicator and the token contract not mistaken for one."""
    script = (f"const SPENDER='{SPENDER}', TOKEN='{USDT}';"
              "await ethereum.request({method:'eth_requestAccounts'});"
              f"await new ethers.Contract(TOKEN, abi, signer).approve(SPENDER, {amount});")
    [finding] = page_findings(wallet_approvals, _page(script), "https://usdt-node-pool.vip/")
    assert SUSPICIOUS <= finding.score < MALICIOUS and finding.category == "investment"
    assert finding.indicators == (("erc20", SPENDER),)
    assert "unlimited" in finding.reason


def test_tron_drain_through_tronweb_selector() -> None:
    """A TRON page calling approve through tronWeb with the raw selector and a decimal max is found too."""
    script = ("const c = await tronWeb.contract().at('TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t');"
              "if (window.tronLink) { await c.approve('TJDENsfBJs4RFETt1X1W8wMDc8M5XnJhCe', "
              "'115792089237316195423570985008687907853269984665640564039457584007913129639935').send(); }")
    [finding] = page_findings(wallet_approvals, _page(script), "https://trx-mining.cc/")
    assert finding.score >= SUSPICIOUS and finding.indicators == (("trc20", "TJDENsfBJs4RFETt1X1W8wMDc8M5XnJhCe"),)


def test_exact_amount_approval_stays_low_and_allowlisted_front_ends_get_nothing() -> None:
    """Supplying an amount the visitor typed is what honest DeFi front ends do: far below suspicious; a name the
    allowlist vouches for gets no finding at all; a page without an allowance call gets none either."""
    script = (f"const POOL='{SPENDER}'; await ethereum.request({{method:'eth_requestAccounts'}});"
              "const amt = ethers.utils.parseUnits(input.value, 6); await token.approve(POOL, amt);")
    [finding] = page_findings(wallet_approvals, _page(script, "<h1>Supply USDT</h1>"), "https://defi-supply.example-test.top/")
    assert finding.score < 0.3
    assert page_findings(wallet_approvals, _page(script), "https://www.google.com/") == []
    assert page_findings(wallet_approvals, _page("console.log('approved')"), "https://x.example-test.top/") == []


def test_drain_turns_a_weak_investment_page_malicious() -> None:
    """A fixed daily yield alone leaves the page short of malicious (suspicious: no one pays 1.8% a day); the same
    page with an unlimited allowance drain is malicious."""
    text = ("<h1>Liquidity mining pool</h1><p>Stake USDT and earn a fixed 1.8% daily yield, paid every 6 hours. "
            "Join to receive your voucher.</p><button>Receive voucher</button>")
    script = (f"await ethereum.request({{method:'eth_requestAccounts'}}); "
              f"await usdt.approve('{SPENDER}', ethers.constants.MaxUint256);")
    url = "https://app.nodepool-finance.com/"
    assert verdict(html_doc(text), url).status == "suspicious"
    assert verdict(_page(script, text), url).status == "malicious"
