"""What `--help` says about the environment and exit codes: one table each, so help and README agree.

README.md's "Exit codes" and "Environment" tables hold the same rows (a test
compares them); change a row here and there together. Plain data, no imports:
the parser reads it at every start.
"""

from __future__ import annotations

WIDTH = 100
EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BUG, EXIT_STALE_PLAN = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM, as shells report them

EXIT_CODES: tuple[tuple[str, str], ...] = (
    ("0", "success (plan --detailed-exitcode: no changes)"),
    ("1", "any known error: bad input, API error, usage error, no state file where one must be"),
    ("2", "only with plan --detailed-exitcode: changes are pending"),
    ("3", "a bug in hss-reconciler (--log-level debug shows the traceback)"),
    ("4", "apply PLANFILE: the saved plan is stale (the state or the registry files changed since it "
          "was made); nothing was changed"),
    ("130 / 143", "interrupted (SIGINT / SIGTERM)"),
)

# The credential chain in its order (hss/credsources/chain.py); a test holds this list to the
# variable names that code reads.
CREDENTIALS: tuple[tuple[str, str], ...] = (
    ("HUAWEICLOUD_OIDC_PROVIDER_URN, HUAWEICLOUD_OIDC_AGENCY_URN",
     "OIDC at STS: an ID token exchanged at STS (assume-with-oidc) for temporary AK/SK (tried first)"),
    ("HUAWEICLOUD_OIDC_ID_TOKEN, HUAWEICLOUD_OIDC_TOKEN_FILE", "that ID token, or the file holding it"),
    ("HUAWEICLOUD_OIDC_SESSION_NAME, HUAWEICLOUD_OIDC_DURATION_SECONDS",
     "its session name (default oidc-sts-session) and lifetime (default 3600, 900-43200 s)"),
    ("HUAWEICLOUD_OIDC_POLICY, HUAWEICLOUD_OIDC_POLICY_IDS",
     "a policy, and policy ids (comma-separated), narrowing the agency's permissions"),
    ("HUAWEICLOUD_SDK_STS_ENDPOINT",
     "the STS endpoint of that exchange (default https://sts.cn-north-4.myhuaweicloud.com)"),
    ("HUAWEICLOUD_SDK_IDP_ID, HUAWEICLOUD_SDK_ID_TOKEN_FILE",
     "federation: an OIDC ID token exchanged at IAM for temporary AK/SK (tried next)"),
    ("HUAWEICLOUD_SDK_IAM_ENDPOINT", "the IAM endpoint of that exchange"),
    ("HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK", "AK/SK that sign every request (SDK-HMAC-SHA256)"),
    ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "the security token of a temporary AK/SK"),
    ("CLOUD_SDK_AK, CLOUD_SDK_SK", "the same AK/SK under the names of the HSS API samples"),
    ("HSS_AUTH_TOKEN", "an IAM token, sent as X-Auth-Token, instead of AK/SK"),
    ("HUAWEICLOUD_SDK_CREDENTIALS_FILE",
     "the profile file (default ~/.huaweicloud/credentials), tried when no variable above is set"),
    ("HSS_METADATA_ENDPOINT", "the ECS/CCE metadata service of agency credentials (tried next)"),
    ("HC_CONTAINER_CREDENTIALS_FULL_URI, HC_CONTAINER_AUTHORIZATION_TOKEN_FILE",
     "CCE pod identity (tried last)"),
)

ENVIRONMENT: tuple[tuple[str, str], ...] = (
    *CREDENTIALS,
    ("HSS_ENDPOINT", "the HSS endpoint of every target, before the files' target.endpoint"),
    ("HUAWEICLOUD_SDK_REGION_HSS_<REGION>, HUAWEICLOUD_SDK_REGIONS_FILE",
     "a region's endpoint as the official SDK finds it, when neither of the above names one"),
    ("HSS_SECRETS_DIR", "directories a {file: PATH} password may also be read from"),
    ("HSS_STATE", "where the state is (a file, s3:// or postgresql:// URL) when --state is not given"),
    ("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
     "the keys of an s3:// state (without them: the Huawei credentials above)"),
    ("PGPASSWORD", "the password of a postgresql:// state (or ~/.pgpass; never in the URL)"),
    ("GITHUB_STEP_SUMMARY", "plan appends its markdown to this file (GitHub Actions sets it)"),
    ("NO_COLOR", "no colour (like --no-color)"),
    ("FORCE_COLOR, CLICOLOR_FORCE", "colour even when the output is not a terminal (unless 0 or false)"),
    ("TERM=dumb", "no colour on this terminal"),
)

# Which of the colour switches wins: the first that applies (render/colors.py follows this order).
COLOUR_PRECEDENCE = ("colour: --no-color, then NO_COLOR, then FORCE_COLOR or CLICOLOR_FORCE, then TERM=dumb, "
                     "then whether the output is a terminal; the first that applies decides")


NAME_WIDTH = 34  # as argparse lays out options: a longer name gets a line of its own


def _rows(title: str, rows: tuple[tuple[str, str], ...]) -> str:
    import textwrap  # only when help is shown: the parser is built at every start

    lines = [f"{title}:"]
    indent = " " * (NAME_WIDTH + 2)
    for name, text in rows:
        head = f"  {name}"
        if len(head) > NAME_WIDTH:
            lines.append(head)
            head = ""
        lines.append(textwrap.fill(text, WIDTH, initial_indent=head.ljust(NAME_WIDTH + 2),
                                   subsequent_indent=indent))
    return "\n".join(lines)


def epilog() -> str:
    """The end of a --help: the variables read, the colour rule, then the exit codes."""
    import textwrap

    return "\n\n".join([_rows("environment", ENVIRONMENT), textwrap.fill(COLOUR_PRECEDENCE, WIDTH),
                        exit_codes()])


def exit_codes() -> str:
    """The end of the --help of a command that reads no credentials: the exit codes alone."""
    return _rows("exit codes", EXIT_CODES)
