// Tiny admin helper for the local Kafka broker run by scripts/stack (uses only kafka-clients,
// so the heavy kafka-tools / connect-runtime artifacts are not needed).
//
//   KafkaAdmin wait   <bootstrap> <timeoutSeconds>   -> exit 0 once a metadata request succeeds
//   KafkaAdmin list   <bootstrap>                    -> one topic name per line
//   KafkaAdmin create <bootstrap> <topic> [partitions] [replicationFactor]   (idempotent)
import java.util.*;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.errors.TopicExistsException;

public class KafkaAdmin {
    static Admin admin(String bootstrap, int timeoutMs) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "stack-admin");
        return Admin.create(p);
    }

    public static void main(String[] a) throws Exception {
        if (a.length < 2) usage();
        String cmd = a[0], bootstrap = a[1];
        switch (cmd) {
            case "wait": {
                long timeoutS = a.length > 2 ? Long.parseLong(a[2]) : 60;
                int want = a.length > 3 ? Integer.parseInt(a[3]) : 1;  // brokers that must answer
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
                Exception last = null;
                try (Admin ad = admin(bootstrap, 5000)) {
                    while (System.nanoTime() < deadline) {
                        try {
                            DescribeClusterResult dc = ad.describeCluster();
                            String id = dc.clusterId().get(5, TimeUnit.SECONDS);
                            int nodes = dc.nodes().get(5, TimeUnit.SECONDS).size();
                            int topics = ad.listTopics().names().get(5, TimeUnit.SECONDS).size();
                            if (nodes >= want) {
                                System.out.println("cluster " + id + ": " + nodes + " broker(s), " + topics + " topic(s)");
                                return;
                            }
                        } catch (Exception e) {
                            last = e;
                        }
                        Thread.sleep(500);
                    }
                }
                System.err.println("kafka metadata request did not succeed within " + timeoutS + "s"
                        + (last != null ? ": " + last : ""));
                System.exit(1);
            }
            case "list": {
                try (Admin ad = admin(bootstrap, 10000)) {
                    new TreeSet<>(ad.listTopics().names().get()).forEach(System.out::println);
                }
                return;
            }
            case "create": {
                if (a.length < 3) usage();
                int parts = a.length > 3 ? Integer.parseInt(a[3]) : 3;
                short rf = a.length > 4 ? Short.parseShort(a[4]) : 1;
                try (Admin ad = admin(bootstrap, 10000)) {
                    ad.createTopics(List.of(new NewTopic(a[2], parts, rf))).all().get();
                    System.out.println("created topic " + a[2] + " (" + parts + " partitions)");
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicExistsException) {
                        System.out.println("topic " + a[2] + " already exists");
                    } else {
                        throw e;
                    }
                }
                return;
            }
            default:
                usage();
        }
    }

    static void usage() {
        System.err.println("usage: KafkaAdmin wait <bootstrap> [timeoutSeconds [brokers]] | list <bootstrap> | create <bootstrap> <topic> [partitions] [rf]");
        System.exit(2);
    }
}
