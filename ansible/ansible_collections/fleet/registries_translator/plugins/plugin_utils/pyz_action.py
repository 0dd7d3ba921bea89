"""On the controller: put the single-file build on the node, then run the module of the same name.

The modules (plugins/modules/) need nothing on a node but Python 3.9 or newer: this action copies
dist/registries-translator.pyz (`make dist`) into the task's temporary directory on the node (removed
with it after the task) and passes its path to the module, which imports the tool from it and runs
it with the node's own python. Which build: the task's `pyz` option (a path on the controller), else
$REGISTRIES_TRANSLATOR_PYZ, else files/registries-translator.pyz in this collection, else
dist/registries-translator.pyz of the checkout this collection lies in.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

PYZ = "registries-translator.pyz"
COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_pyz(option: str | None) -> str | None:
    candidates = [option, os.environ.get("REGISTRIES_TRANSLATOR_PYZ"), os.path.join(COLLECTION, "files", PYZ),
                  os.path.join(COLLECTION, "..", "..", "..", "..", "dist", PYZ)]
    for candidate in candidates:
        if candidate:
            path = os.path.abspath(os.path.expanduser(candidate))
            if option or os.path.isfile(path):
                return path
    return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # the task's temporary directory is self._connection._shell.tmpdir
        args = dict(self._task.args)
        local = find_pyz(args.pop("pyz", None))
        try:
            if local is None or not os.path.isfile(local):
                result.update(failed=True, msg=f"the single-file build {local or PYZ} was not found on the controller: "
                                                "run `make dist` in registries-translator, or give pyz: or "
                                                "$REGISTRIES_TRANSLATOR_PYZ")
                return result
            if self._connection._shell.tmpdir is None:
                self._make_tmp_path()
            remote = self._connection._shell.join_path(self._connection._shell.tmpdir, PYZ)
            self._transfer_file(local, remote)
            self._fixup_perms2((self._connection._shell.tmpdir, remote))
            args["pyz"] = remote
            module = self._task.resolved_action or self._task.action
            result.update(self._execute_module(module_name=module, module_args=args, task_vars=task_vars))
            return result
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
