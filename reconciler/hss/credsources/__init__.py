"""Where credentials come from after the environment: the official SDK's chain, one source a module.

``chain.py`` walks them in the SDK's order (huaweicloudsdkcore
``CredentialProviderChain``): environment, profile file, IdP federation (named
by either of those), ECS/CCE metadata, pod identity. Temporary credentials are
kept fresh by ``refreshing.py``; ``answer.py`` fetches and checks every answer.
"""
