# The prebuilt UI lives at the top of the tree (design.md's layout) but ships
# inside the package as `app.frontend`, so an installed wheel or a frozen
# binary never looks for files outside the package.
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["appliance*", "app*"]), "app.frontend"],
    package_dir={"app.frontend": "frontend-dist"},
    package_data={
        "app.frontend": ["*", "*/*", "*/*/*"],
        "": ["*.ini", "*.mako", "*.j2", "*.txt"],
    },
)
