.class public Lio/dcloud/PandoraEntry;
.super Landroid/app/Activity;
.source "PandoraEntry.java"

# Test fixture for fraudwall's APK analysis: DCloud uni-app web-to-APK shell (stub).

.field public static final APPID:Ljava/lang/String; = "__UNI__8F3A2B1"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Activity;-><init>()V
    return-void
.end method

.method public static runtime()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x3
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "io/dcloud/PandoraEntry"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "apps/__UNI__8F3A2B1/www/manifest.json"
    aput-object v2, v0, v1
    const/16 v1, 0x2
    const-string v2, "io.dcloud.application.DCloudApplication"
    aput-object v2, v0, v1
    return-object v0
.end method
