"""ztui: the guest devices of KVM hosts and what backs each of them on the host, as one live tree."""

__version__ = "0.1.0"
