"""An example external fraudwall plugin package: see :mod:`fraudwall_example_plugin.shuadan_jobs`."""
