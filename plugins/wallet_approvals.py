"""Page detector: scripts that ask a visitor's wallet for an unlimited token allowance.

"Liquidity mining", "node rewards" and "receive your voucher" pages in the USDT
frauds end the same way: a *Connect wallet* button whose script calls the token
contract's ``approve`` (or ``increaseAllowance``, ``setApprovalForAll``) for the
largest possible amount, to a spender address written into the page. From then
on the spender can move every token the victim holds, without asking again
(an *approval drain*). On TRON the same call goes through ``tronWeb``.

The detector reads the page's inline scripts (and script text the page view
decoded) for:

* an allowance call: the method names above, or their ABI selectors
  (``0x095ea7b3`` approve, ``0x39509351`` increaseAllowance, ``0xa22cb465``
  setApprovalForAll);
* an unlimited amount: 2^256 - 1 in any spelling (``MaxUint256``, 64 ``f``,
  the decimal number, ``2 ** 256 - 1``, ``uint256(-1)``, ``'f'.repeat(64)``), or an approval for all;
* a wallet connection (``eth_requestAccounts``, ``tronLink``...) and a hard-coded
  spender address, which raise the score.

Real DeFi front ends ask for allowances too, usually for the amount being
supplied; they live on names the allowlist vouches for and get no finding. The
score alone stays below *malicious*: it is category ``investment``, so a page
whose words read as a fake investment corroborates it (see
:mod:`fraudwall.blocklists.scoring`).
"""

from __future__ import annotations

import re

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.models import Category, Finding, UrlParts
from fraudwall.page_view import PageView

name = "wallet_approvals"
version = "1.0"

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40.

#: An allowance call for an unlimited amount (or for all tokens) in the page's own script.
UNLIMITED_APPROVAL = 0.55
#: The script also connects the visitor's wallet.
WALLET_CONNECTION = 0.05
#: The spender is an address written into the page.
HARD_CODED_SPENDER = 0.10
#: An allowance call with no unlimited amount seen: an amount may still be all the victim holds.
APPROVAL_ONLY = 0.10

_ALLOWANCE_CALL = re.compile(
    r"\b(approve|increaseAllowance|setApprovalForAll)\s*\(|[\"'](approve|increaseAllowance|setApprovalForAll)[\"']"
    r"|0x(095ea7b3|39509351|a22cb465)",
    re.IGNORECASE,
)
_UNLIMITED = re.compile(
    r"maxuint256|max_uint256|maxuint|uint256\s*\(\s*-\s*1\s*\)|0x(?:f{64})\b|\bf{64}\b"
    r"|115792089237316195423570985008687907853269984665640564039457584007913129639935"
    r"|2n?\s*\*\*\s*256n?\s*-\s*1n?|toTwosComplement\s*\(\s*-1\s*\)|[\"'`]f[\"'`]\s*\.\s*repeat\s*\(\s*64\s*\)"
    r"|setApprovalForAll\s*\([^)]*,\s*(?:true|!0)\s*\)",
    re.IGNORECASE,
)
_CONNECT = re.compile(r"eth_requestAccounts|ethereum\.enable|tronLink|tronWeb\.defaultAddress|walletconnect",
                      re.IGNORECASE)
#: An EVM address or a TRON address written as a literal (the spender, or the token contract itself).
_ADDRESS_LITERAL = re.compile(r"[\"'`](0x[0-9a-fA-F]{40}|T[1-9A-HJ-NP-Za-km-z]{33})[\"'`]")
#: Token contracts the drain targets, which are no spender: USDT on Ethereum and on TRON, USDC on Ethereum.
_TOKEN_CONTRACTS = frozenset({
    "0xdac17f958d2ee523a2206206994597c13d831ec7", "tr7nhqjekqxgtci8q8zy4pl8otszgjlj6t",
    "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48",
})


def _script_text(view: PageView) -> str:
    """Inline scripts and the script text the page view decoded from escapes and base64."""
    return "\n".join((*view.page.scripts, *view.hidden_sources))


def judge(view: PageView, url: UrlParts) -> Finding | None:
    """The approval-drain finding for the page, or ``None``."""
    if not url.is_ip and reference.is_allowlisted(url.host):
        return None
    code = _script_text(view)
    call = _ALLOWANCE_CALL.search(code)
    if call is None:
        return None
    unlimited = _UNLIMITED.search(code)
    connects = _CONNECT.search(code)
    spenders = [address for address in dict.fromkeys(_ADDRESS_LITERAL.findall(code))
                if address.lower() not in _TOKEN_CONTRACTS]
    score = UNLIMITED_APPROVAL if unlimited else APPROVAL_ONLY
    reasons = ["an unlimited token allowance" if unlimited else "a token allowance"]
    if connects:
        score += WALLET_CONNECTION
        reasons.append("after connecting the visitor's wallet")
    if spenders:
        score += HARD_CODED_SPENDER
        reasons.append(f"to an address written into the page ({spenders[0]})")
    evidence = [f"call: {call.group(0)}"]
    if unlimited:
        evidence.append(f"amount: {unlimited.group(0)[:80]}")
    if connects:
        evidence.append(f"wallet: {connects.group(0)}")
    return Finding(
        subject=view.page.final_url, detector=name, detector_version=version, category=Category.INVESTMENT.value,
        score=round(score, 3),
        reason="Page script asks the visitor's wallet for " + " ".join(reasons) + ": an approval drain.",
        evidence=tuple(evidence),
        indicators=tuple(("erc20" if address.startswith("0x") else "trc20", address) for address in spenders[:3]),
    )


@hookimpl
def analyze_page(view: PageView, url: UrlParts) -> list[Finding]:
    """At most one finding: the page's scripts as an approval drain."""
    finding = judge(view, url)
    return [finding] if finding else []
