///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//MAIN T3Reconcile

/** Not built yet (issue 4): says so and fails, so nobody mistakes it for a working installer. */
class T3Reconcile {
    public static void main(String[] args) {
        System.err.println("t3-reconcile: not implemented yet; install the units by hand (see README)");
        System.exit(1);
    }
}
