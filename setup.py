"""Build hook: a top-level file installs under the package name ``package-dir`` maps it to.

The repository keeps the command at the top (``cli.py``) while it installs as ``basisgen.cli``, so that
the only top-level import names are ``basisgen`` and ``e2layers``.  setuptools maps packages to
folders, not modules to files; pyproject.toml therefore lists ``basisgen.cli`` among the packages with
``package-dir`` ``"basisgen.cli" = "cli"``, and this ``build_py`` builds a mapped name whose folder does
not exist but whose ``.py`` file does as that single module.  Editable installs need no hook: their
import finder already resolves a mapped path to ``<path>/__init__.py`` or ``<path>.py``.
"""
import os

from setuptools import setup
from setuptools.command.build_py import build_py


class MappedModuleBuildPy(build_py):
    """``build_py`` that builds a package mapped to ``<dir>`` from the module file ``<dir>.py``."""

    def _module_file(self, package_dir: str):
        path = package_dir + ".py"
        return path if not os.path.isdir(package_dir) and os.path.isfile(path) else None

    def check_package(self, package, package_dir):
        if self._module_file(package_dir):
            return None
        return super().check_package(package, package_dir)

    def find_package_modules(self, package, package_dir):
        path = self._module_file(package_dir)
        if path:
            parent, _, name = package.rpartition(".")
            return [(parent, name, path)]
        return super().find_package_modules(package, package_dir)

    def build_packages(self):
        mapped = {p: self._module_file(self.get_package_dir(p)) for p in self.packages}
        packages = self.packages
        self.packages = [p for p in packages if not mapped[p]]
        try:
            super().build_packages()
        finally:
            self.packages = packages
        for package, path in mapped.items():
            if path:
                parent, _, name = package.rpartition(".")
                self.build_module(name, path, parent)

    def find_data_files(self, package, src_dir):
        return [] if self._module_file(src_dir) else super().find_data_files(package, src_dir)


setup(cmdclass={"build_py": MappedModuleBuildPy})
