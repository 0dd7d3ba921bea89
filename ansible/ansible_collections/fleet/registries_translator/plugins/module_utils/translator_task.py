"""On the node: import registries-translator from the single-file build and run one task.

The action plugin of the same name has copied the build (a zip archive) into the task's temporary
directory and passes its path as `pyz`; the archive goes first on sys.path, so its translator and
the libraries pinned with it are used whatever the node's Python has installed. Without `pyz` the
tool must be installed on the node (`pip install registries-translator`). Everything else —
what changes, the diff, the facts, the CLI's `error:` line — is computed by translator.fleet; this
module only maps Ansible's options and check mode onto it. Runs on the node's Python (3.9+).
"""

from __future__ import annotations

import sys

from ansible.module_utils.basic import AnsibleModule

#: options every module takes
COMMON = {
    "containerd": {"type": "str"},
    "pyz": {"type": "path"},
}
FACT = "registries_translator_check"


def _load(module: AnsibleModule):
    pyz = module.params.get("pyz")
    if pyz:
        sys.path.insert(0, pyz)
    try:
        from translator import fleet
    except ImportError as exc:
        module.fail_json(msg=f"cannot import registries-translator on this node ({exc}): run the module through "
                             "its action plugin (it copies the single-file build), or install the tool here",
                         python=sys.version.split()[0])
    return fleet


def run(task: str, argument_spec: dict, to_params) -> None:
    """Run TASK with the parameters TO_PARAMS(module) builds; exit with Ansible's result."""
    module = AnsibleModule(argument_spec={**COMMON, **argument_spec}, supports_check_mode=True)
    fleet = _load(module)
    params = to_params(module)
    if task != "check":
        params["write"] = not module.check_mode
    result = fleet.run(task, params)
    result["python"] = sys.version.split()[0]
    if result.pop("failed", False):
        module.fail_json(**result)
    diff = result.pop("diff", "")
    if diff and module._diff:
        result["diff"] = {"prepared": diff}
    if task == "check":
        facts = result["check"]
        result["ansible_facts"] = {FACT: facts}
        if module.params["fail_on"] != "never" and facts["exit_code"]:
            result["msg"] = f"check found problems: {result['msg']}"
            module.fail_json(**result)
    module.exit_json(**result)
