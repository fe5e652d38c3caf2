import base.Accounts;
import install.CheckoutTrust;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The units run the checkout's scripts as root: reconcile refuses to install from a checkout
 * anyone but root can write, and --check reports one as drift. On a copy of this checkout's
 * launcher, scripts, lib/ and units/ in a root-only temp dir.
 */
class CheckoutTrustTest {
    @TempDir Path tmp;
    Path copy;

    @BeforeEach
    void copyTheCheckout() throws Exception {
        assumeTrue(Accounts.isRoot(), "the files the units run must be root's: run the tests as root (CI does)");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        copy = Files.createDirectory(tmp.resolve("checkout"));
        Children.check("cp", "-r", "--preserve=mode", Repo.ROOT.resolve("lib").toString(), Repo.ROOT.resolve("units").toString(), copy.toString());
        try (var files = Files.newDirectoryStream(Repo.ROOT, "{jbang,t3-*.java}")) {
            for (Path f : files) Files.copy(f, copy.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
        }
        Children.check("chmod", "-R", "go-w", copy.toString());
    }

    @Test
    void aRootOnlyCheckoutIsTrusted() {
        assertEquals(List.of(), CheckoutTrust.problems(copy));
        assertEquals(List.of(), CheckoutTrust.problems(Repo.ROOT), "this checkout, which the other tests install from");
    }

    @Test
    void aGroupWritableLibIsRefusedAndItsFixNamed() throws Exception {
        Children.check("chmod", "g+w", copy.resolve("lib").toString());
        List<String> p = CheckoutTrust.problems(copy);
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).startsWith(copy.resolve("lib") + " is writable by group root: chmod g-w "), p.get(0));
        // A folder of lib/ (a package) is a place a planted file is compiled too, sticky or not.
        Children.check("chmod", "g-w", copy.resolve("lib").toString());
        Children.check("chmod", "1777", copy.resolve("lib/restore").toString());
        assertEquals(List.of(copy.resolve("lib/restore") + " is writable by everyone: chmod o-w " + copy.resolve("lib/restore"),
                copy.resolve("lib/restore") + " is writable by group root: chmod g-w " + copy.resolve("lib/restore")), CheckoutTrust.problems(copy));
        Children.check("chmod", "755", copy.resolve("lib/restore").toString());
        // lib/ itself, sticky: a package folder made there is compiled at the next build.
        Children.check("chmod", "1777", copy.resolve("lib").toString());
        assertTrue(String.join("\n", CheckoutTrust.problems(copy)).contains(copy.resolve("lib") + " is writable by everyone"), "sticky lib/ refused");
        Children.check("chmod", "755", copy.resolve("lib").toString());
        // An empty folder under lib/ anyone can write: the file planted there next is compiled.
        Path empty = Files.createDirectory(copy.resolve("lib/newpkg"));
        Children.check("chmod", "777", empty.toString());
        assertTrue(String.join("\n", CheckoutTrust.problems(copy)).contains(empty + " is writable by everyone"), "empty package folder refused");
    }

    @Test
    void everyKindOfWriterIsFound() throws Exception {
        Children.check("chmod", "o+w", copy.resolve("t3-save.java").toString());
        Children.check("chmod", "g+w", copy.resolve("units/t3-tmux-save.service").toString());
        Children.check("chmod", "o+w", tmp.toString()); // a parent directory anyone can rename the checkout in
        Children.check("chmod", "1777", copy.resolve("units").toString()); // sticky or not, a unit added there is installed
        String all = String.join("\n", CheckoutTrust.problems(copy));
        assertTrue(all.contains(copy.resolve("units") + " is writable by everyone"), all);
        assertTrue(all.contains(copy.resolve("t3-save.java") + " is writable by everyone"), all);
        assertTrue(all.contains(copy.resolve("units/t3-tmux-save.service") + " is writable by group"), all);
        assertTrue(all.contains(tmp + " is writable by everyone"), all);
        assertFalse(all.contains(copy.resolve("lib").toString()), all);
        // A sticky world-writable parent (/tmp itself) is fine: nobody renames what is not theirs.
        Children.check("chmod", "1777", tmp.toString());
        assertFalse(String.join("\n", CheckoutTrust.problems(copy)).contains(tmp + " is"), "sticky parent accepted");
    }

    @Test
    void aFileOwnedByAUserOrASymlinkToHerFileIsRefused() throws Exception {
        try (TestUsers users = new TestUsers()) {
            Accounts.Account mallory = users.create();
            Path hers = mallory.home().resolve("Tmux.java");
            Files.copy(copy.resolve("lib/tmux/Tmux.java"), hers);
            Children.check("chown", mallory.name(), hers.toString());
            Files.delete(copy.resolve("lib/tmux/Tmux.java"));
            Files.createSymbolicLink(copy.resolve("lib/tmux/Tmux.java"), hers); // the link is root's; its target is not
            Children.check("chown", mallory.name(), copy.resolve("units/t3-tmux-save.timer").toString());
            String all = String.join("\n", CheckoutTrust.problems(copy));
            assertTrue(all.contains(hers + " is owned by uid " + mallory.uid() + " (" + mallory.name() + ")"), all);
            assertTrue(all.contains(mallory.home() + " is owned by uid " + mallory.uid()), "the target's directories too: " + all);
            assertTrue(all.contains(copy.resolve("units/t3-tmux-save.timer") + " is owned by uid " + mallory.uid()), all);
            assertTrue(all.contains("chown root:root " + hers), all);
        }
    }

    @Test
    void reconcileRefusesToInstallAndCheckReportsDrift(@TempDir Path root) throws Exception {
        Children.check("chmod", "g+w", copy.resolve("lib").toString());
        Map<String, String> env = Map.of("T3_STATE_DIR", "/var/lib/t3-tmux-state");
        Children.Ran install = Repo.script("t3-reconcile.java", env, "--root", root.toString(), "--checkout", copy.toString(), "--no-build");
        assertEquals(2, install.exit(), install.all());
        assertTrue(install.all().contains("refusing to install from " + copy + ": " + copy.resolve("lib") + " is writable by group root: chmod g-w"),
                install.all());
        assertFalse(Files.exists(root.resolve("usr/local/lib/systemd/system/t3-tmux-save.service")), "nothing installed");

        Children.Ran check = Repo.script("t3-reconcile.java", env, "--root", root.toString(), "--checkout", copy.toString(), "--check");
        assertEquals(1, check.exit(), check.all());
        assertTrue(check.all().contains("drift: " + copy.resolve("lib") + " is writable by group root"), check.all());

        Children.check("chmod", "g-w", copy.resolve("lib").toString());
        Children.Ran fixed = Repo.script("t3-reconcile.java", env, "--root", root.toString(), "--checkout", copy.toString(), "--no-build");
        assertEquals(0, fixed.exit(), "once fixed, it installs: " + fixed.all());
        assertTrue(Files.exists(root.resolve("usr/local/lib/systemd/system/t3-tmux-save.service")));
    }
}
