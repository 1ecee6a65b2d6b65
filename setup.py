"""Package discovery for the sciml namespace.

`solvers/` and `datasets/` are top-level folders but install as `sciml.solvers` and
`sciml.datasets`, so that nothing shadows Hugging Face's `datasets` (DESIGN.md, Layout). Packages are
found here rather than listed in pyproject.toml so that a new subpackage cannot be forgotten.
"""

from setuptools import find_packages, setup

ROOTS = {"sciml": "sciml", "sciml.solvers": "solvers", "sciml.datasets": "datasets"}

packages: list[str] = []
package_dir: dict[str, str] = {}
for name, folder in ROOTS.items():
    package_dir[name] = folder
    packages.append(name)
    for sub in find_packages(folder):
        packages.append(f"{name}.{sub}")

setup(packages=packages, package_dir=package_dir)
