"""The migrate module's controller side: copy the single-file build to the node (plugin_utils/pyz_action.py)."""

from __future__ import annotations

from ansible_collections.fleet.registries_translator.plugins.plugin_utils.pyz_action import ActionModule

__all__ = ["ActionModule"]
