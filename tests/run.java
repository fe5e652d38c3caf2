///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//MAIN T3Tests
//SOURCES ../lib/**.java
//SOURCES *Test.java
//SOURCES support/*.java
//DEPS org.junit:junit-bom:5.14.1@pom
//DEPS org.junit.jupiter:junit-jupiter
//DEPS org.junit.platform:junit-platform-launcher
//DEPS com.tngtech.archunit:archunit:1.4.1

import base.Accounts;
import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The test command: runs every *Test class (or the classes named as arguments) on JUnit
 * Jupiter, prints one line per test, every skip with its reason, and last
 * "N passed, N failed, N skipped". Exits 1 on any failure or when no test ran.
 * Under CI as root a skip is a failure (see {@link #skipFails}).
 */
class T3Tests {
    /**
     * Why a skip counts as a failure here, or null when a skip is a skip. CI runs as root on a
     * machine where run.sh installs everything: a test that skips there (the reboot test without
     * nspawn, say) has not shown what it exists to show, and a green run would hide it.
     */
    static String skipFails(java.util.Map<String, String> env, boolean root) {
        if (!"true".equalsIgnoreCase(env.getOrDefault("CI", "").strip()) || !root) return null;
        return "CI=true and running as root, where every test can run: a skip is a failure";
    }

    public static void main(String[] args) throws Exception {
        String strict = skipFails(System.getenv(), Accounts.isRoot());
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        if (args.length > 0) {
            for (String name : args) request.selectors(selectClass(name));
        } else {
            Path root = Path.of(T3Tests.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            request.selectors(selectClasspathRoots(Set.of(root))).filters(includeClassNamePatterns(".*Test"));
        }
        AtomicInteger passed = new AtomicInteger(), failed = new AtomicInteger(), skipped = new AtomicInteger();
        List<String> failures = new ArrayList<>();
        long start = System.nanoTime();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request.build(), new TestExecutionListener() {
            TestPlan plan;

            @Override
            public void testPlanExecutionStarted(TestPlan testPlan) {
                plan = testPlan;
            }

            /** A skipped or aborted class skips every test in it: count them all, say why once. */
            private void skip(TestIdentifier id, String reason) {
                long n = id.isTest() ? 1 : plan.getDescendants(id).stream().filter(TestIdentifier::isTest).count();
                String what = id.getDisplayName() + (id.isTest() ? "" : " (" + n + " tests)");
                if (strict != null) {
                    failed.addAndGet((int) n);
                    failures.add(id.getUniqueId());
                    System.out.printf("FAIL %s: skipped (%s); %s%n", what, reason, strict);
                    return;
                }
                skipped.addAndGet((int) n);
                System.out.printf("SKIP %s: %s%n", what, reason);
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                skip(id, reason);
            }

            @Override
            public void executionStarted(TestIdentifier id) {
                if (id.isContainer() && id.getSource().isPresent() && id.getSource().get() instanceof org.junit.platform.engine.support.descriptor.ClassSource)
                    System.out.printf("== %s%n", id.getDisplayName());
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                String name = id.getDisplayName();
                switch (result.getStatus()) {
                    case SUCCESSFUL:
                        if (id.isTest()) { passed.incrementAndGet(); System.out.printf("PASS %s%n", name); }
                        break;
                    case ABORTED:
                        skip(id, result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
                        break;
                    case FAILED:
                        failed.incrementAndGet();
                        Throwable t = result.getThrowable().orElse(null);
                        System.out.printf("FAIL %s: %s%n", name, t);
                        if (t != null) t.printStackTrace(System.out);
                        failures.add(id.getUniqueId());
                        break;
                }
            }
        });
        System.out.printf("%ntook %.1f s%n", (System.nanoTime() - start) / 1e9);
        if (passed.get() + failed.get() == 0) System.out.println("no test ran: that is a failure");
        System.out.printf("%d passed, %d failed, %d skipped%n", passed.get(), failed.get(), skipped.get());
        System.exit(failed.get() == 0 && passed.get() + failed.get() > 0 ? 0 : 1);
    }
}
