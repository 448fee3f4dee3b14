pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.server",
    "tests.fixtures.ws",
    "tests.fixtures.browser",
]
