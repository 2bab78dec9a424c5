import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * Curator's {@code .authorization()} pattern: addAuthInfo right after the constructor, so the
 * auth packet is queued behind the ConnectRequest. Run with the socket implementation chosen
 * by {@code -Dzookeeper.clientCnxnSocket}. Prints "OK data" once connected and served.
 */
public class AuthAtConnect {
    public static void main(String[] args) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(args[0], 10000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        zk.addAuthInfo("digest", "user:pw".getBytes());
        if (!connected.await(20, TimeUnit.SECONDS)) {
            System.out.println("NOT CONNECTED");
            System.exit(2);
        }
        zk.create(args[1], "secret".getBytes(), ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.EPHEMERAL);
        System.out.println("OK " + new String(zk.getData(args[1], false, null)));
        zk.close();
    }
}
