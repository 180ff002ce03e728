/* libplugin: the shared library the `dlopen` target loads and unloads at run time.
 *
 * Built by tests/conftest.py with -shared -fPIC (never as an executable, which is why it lives
 * under plugins/).  plugin_value() returns a constant the target prints, so a test can tell
 * that the call really ran inside the loaded object.
 */
int plugin_value(void)
{
    return 4242;
}
