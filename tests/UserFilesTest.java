import base.Accounts;
import base.UserFiles;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Reading files from a user's world as root: what is refused, and what cannot hang us. */
class UserFilesTest {
    @TempDir Path dir;
    final int me = Accounts.currentUid();

    @Test
    void readsABoundedPrefixOfAnOwnedRegularFile() throws Exception {
        Path real = dir.toRealPath();
        Files.writeString(real.resolve("f"), "x".repeat(10_000));
        assertEquals(Optional.of("x".repeat(100)), UserFiles.readPrefix(real.resolve("f"), me, real, 100));
        assertEquals(Optional.empty(), UserFiles.readPrefix(real.resolve("f"), me + 1, real, 100), "another owner's file is not trusted");
    }

    @Test
    void refusesSymlinksFifosAndEscapes(@TempDir Path outside) throws Exception {
        Path real = dir.toRealPath();
        Path secret = Files.writeString(outside.resolve("secret"), "s");
        Files.createSymbolicLink(real.resolve("link"), secret);
        assertEquals(Optional.empty(), UserFiles.readPrefix(real.resolve("link"), me, real, 100));
        Children.check("mkfifo", real.resolve("fifo").toString());
        assertEquals(Optional.empty(), UserFiles.readPrefix(real.resolve("fifo"), me, real, 100));
        Files.createSymbolicLink(real.resolve("sub"), outside.toRealPath());
        assertEquals(Optional.empty(), UserFiles.readPrefix(real.resolve("sub/secret"), me, real, 100), "a symlinked directory leads outside");
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // fail, not hang, when it does block
    void aFifoThatSlipsPastTheChecksCannotHangTheRead() throws Exception {
        Path fifo = dir.resolve("fifo");
        Children.check("mkfifo", fifo.toString());
        assertEquals(Optional.empty(), UserFiles.readBounded(fifo, null, 100));
    }
}
