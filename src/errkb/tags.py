"""The controlled vocabulary of article tags: platforms and causes.

One file, so that the checker, the CLI's choices, shell completion and the
documentation all read the same list. Adding a cause means adding it here
(with a one-line meaning) and bumping nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Platform slug -> the name people know it by (used as the fix label too).
PLATFORMS: dict[str, str] = {
    "taobao": "Taobao",
    "alipay": "Alipay",
    "alibaba": "Alibaba.com",
}

#: Cause tag -> what it means. Keep it small: a tag is only useful if
#: several articles share it.
CAUSES: dict[str, str] = {
    "identity-verification": "Alipay's identity (real-name) status is expired, incomplete or failing",
    "document-change": "a passport or permit was renewed and old details are still on file",
    "name-mismatch": "the name differs between bank, Alipay and passport or permit",
    "phone-mismatch": "the bank's reserved mobile number differs from Alipay's",
    "card-unsupported": "the card or bank account type cannot pay on this platform",
    "card-settings": "the card works but online or international use is switched off",
    "risk-control": "security checks: VPN, new device or location, unusual activity",
    "account-locked": "the account is locked, frozen or limited",
    "limits": "a daily, annual or card limit, or funds, below the order total",
    "authorization": "payment password, SMS code or face/fingerprint confirmation",
    "app-glitch": "app cache, outdated app, maintenance or a dropped connection",
    "account-setup": "signing up, binding accounts or choosing the payment method",
    "card-linking": "adding a card to Alipay and its verification",
    "currency": "exchange rates, conversion and fees",
    "support": "reaching the help centre or a person",
    "workaround": "paying another way when the card keeps failing",
}

def platform_names(slugs: Iterable[str]) -> str:
    """Platform slugs as people read them: "Alipay, Alibaba.com"."""
    return ", ".join(PLATFORMS.get(s, s) for s in slugs)


#: The label a fix carries when it applies wherever the article applies.
ALL_PLATFORMS_LABEL = "All platforms"


def platform_for_label(label: str) -> str | None:
    """Map one platform name as written in a fix label ("Alibaba.com") to its slug."""
    wanted = label.strip().lower()
    for slug, name in PLATFORMS.items():
        if wanted in (slug, name.lower()):
            return slug
    return None
