"""Free email providers (SPEC §16): anyone can have an address at these domains, so none of
them can be a company domain (`company_domains.normalize` refuses them)."""

# Mail providers anyone can get an address at: such a domain says nothing about who works
# where, so it can never be a company domain.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk",
        "live.com", "live.co.uk", "msn.com", "yahoo.com", "yahoo.co.uk", "ymail.com",
        "rocketmail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
        "protonmail.com", "protonmail.ch", "pm.me", "gmx.com", "gmx.net", "gmx.de", "web.de",
        "mail.com", "yandex.com", "yandex.ru", "mail.ru", "zoho.com", "zohomail.com",
        "fastmail.com", "tutanota.com", "tuta.io", "hey.com", "qq.com", "163.com", "126.com",
        "btinternet.com", "sky.com", "orange.fr", "free.fr", "laposte.net", "t-online.de",
        "libero.it", "rediffmail.com", "naver.com", "hushmail.com", "inbox.com",
    }
)  # fmt: skip
