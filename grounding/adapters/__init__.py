"""Models behind one protocol: the `Adapter` protocol, its discovery through the `grounding.modalities`
entry-point group, and a checkpoint's adapter loaded the first time something must be generated."""

from grounding.adapters._lazy import LazyAdapter, resolved_device
from grounding.adapters._protocol import GROUP, Adapter, adapter_class, adapter_kind, load_adapter, registered

__all__ = ["GROUP", "Adapter", "LazyAdapter", "adapter_class", "adapter_kind", "load_adapter", "registered",
           "resolved_device"]
