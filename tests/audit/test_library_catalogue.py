"""The libraries people use, as the catalogue describes them, run through the real checker.

Per library: INVALID snippets, each expected finding marked at the end of its line with the
rule code (`# BLK101`, two findings on one line `# BLK100 BLK101`), and VALID snippets
(async twins, local methods, lazy objects only made) that must report nothing. Imports are
written out, except where a case checks a name bound nowhere (matched by its spelling).
"""

from __future__ import annotations

import re
import textwrap

import pytest

from audit.catalogue import default_catalogue
from tests.conftest import Project, analyze

MARK = re.compile(r"#\s*((?:BLK\d{3}\s*)+)$")

INVALID: dict[str, list[str]] = {
    "aws": [
        # a module-level client used in a coroutine
        """
        import boto3

        S3 = boto3.client("s3")

        async def handler(key):
            return S3.get_object(Bucket="b", Key=key)  # BLK101
        """,
        # a session's client and resource, and S3's managed transfers
        """
        import boto3

        async def handler(path):
            session = boto3.session.Session(profile_name="p")
            s3 = session.client("s3")
            s3.upload_file(path, "b", "k")  # BLK101
            ddb = boto3.Session().resource("dynamodb")
            ddb.Table("t").put_item(Item={})  # BLK101
        """,
        # a client kept on `self`
        """
        import boto3

        class Store:
            def __init__(self):
                self.s3 = boto3.client("s3")

            async def put(self, key, body):
                self.s3.put_object(Bucket="b", Key=key, Body=body)  # BLK101
        """,
        # the root is bound nowhere: matched by its spelling
        """
        async def handler():
            sqs = boto3.client("sqs")
            sqs.send_message(QueueUrl="u", MessageBody="m")  # BLK101
        """,
        # paginators and waiters are made locally; paging and waiting call the API
        """
        import boto3

        async def handler():
            s3 = boto3.client("s3")
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket="b"):  # BLK101
                print(page)
            s3.get_waiter("bucket_exists").wait(Bucket="b")  # BLK101
        """,
        # sub-resources are local; actions, loads and collections (iterated) are not
        """
        import boto3

        async def handler():
            s3 = boto3.resource("s3")
            bucket = s3.Bucket("b")
            obj = bucket.Object("k")
            obj.load()  # BLK101
            body = obj.get()["Body"]  # BLK101
            for summary in bucket.objects.filter(Prefix="p"):  # BLK101
                print(summary.key)
            names = [b.name for b in s3.buckets.all()]  # BLK101
            bucket.objects.filter(Prefix="tmp/").delete()  # BLK101
            bucket.download_file("k", "/tmp/k")  # BLK101
            return body, names
        """,
        # an annotated parameter (boto3-stubs' types)
        """
        from mypy_boto3_s3 import S3Client

        async def handler(client: S3Client):
            client.put_object(Bucket="b", Key="k", Body=b"")  # BLK101
        """,
        # `table.meta.client` is the resource's low-level client
        """
        import boto3

        async def handler():
            table = boto3.resource("dynamodb").Table("t")
            table.meta.client.describe_table(TableName="t")  # BLK101
        """,
    ],
    "sqlalchemy": [
        """
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session

        engine = create_engine("postgresql://")

        async def handler():
            with engine.connect() as conn:  # BLK101
                conn.execute(text("select 1"))  # BLK101
                conn.commit()  # BLK101
            with Session(engine) as session:
                session.execute(text("select 1"))  # BLK101
                session.commit()  # BLK101
        """,
        # a factory made at module level, called in the coroutine
        """
        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker

        SessionLocal = sessionmaker(bind=create_engine("sqlite://"))

        async def handler(user_id):
            session = SessionLocal()
            user = session.get(User, user_id)  # BLK101
            session.add(user)
            session.flush()  # BLK101
            session.refresh(user)  # BLK101
            session.close()  # BLK101
        """,
        # a query runs where it is finished or iterated, never where it is only built
        """
        from sqlalchemy.orm import Session

        async def handler(db: Session):
            query = db.query(User).filter(User.active)
            first = query.order_by(User.id).first()  # BLK101
            total = db.query(User).count()  # BLK101
            names = [u.name for u in db.query(User).filter_by(admin=True)]  # BLK101
            return first, total, names
        """,
        """
        import sqlalchemy

        async def handler(engine: sqlalchemy.Engine):
            with engine.begin() as conn:  # BLK101
                conn.exec_driver_sql("delete from t")  # BLK101
            metadata = sqlalchemy.MetaData()
            metadata.create_all(engine)  # BLK101
        """,
        # SQLModel's session is SQLAlchemy's
        """
        from sqlmodel import Session, select

        async def handler(session: Session):
            return session.exec(select(Hero)).all()  # BLK101
        """,
    ],
    "pymongo": [
        """
        import pymongo

        client = pymongo.MongoClient("mongodb://localhost")

        async def handler(doc):
            client.shop.orders.find_one({"_id": 1})  # BLK101
            client["shop"]["orders"].insert_one(doc)  # BLK101
            orders = client.get_database("shop").get_collection("orders")
            orders.update_many({}, {"$set": {"x": 1}})  # BLK101
            orders.count_documents({})  # BLK101
            client.list_database_names()  # BLK101
        """,
        # a cursor queries as it is iterated or read
        """
        from pymongo import MongoClient

        async def handler(client: MongoClient):
            users = client.app.users
            for user in users.find({"active": True}).sort("name"):  # BLK101
                print(user)
            top = list(users.find().limit(10))  # BLK101
            rest = users.find({"x": 1}).to_list()  # BLK101
            users.aggregate([{"$match": {}}])  # BLK101
            return top, rest
        """,
        # a database handed in, annotated with the module path
        """
        from pymongo.database import Database

        async def handler(db: Database):
            db["events"].delete_many({})  # BLK101
            db.command("ping")  # BLK101
        """,
    ],
    "elasticsearch": [
        # an annotated parameter, namespaced APIs, helpers
        """
        from elasticsearch import Elasticsearch, helpers

        async def handler(es: Elasticsearch, actions):
            es.search(index="i", query={"match_all": {}})  # BLK101
            es.indices.create(index="i")  # BLK101
            es.options(request_timeout=5).index(index="i", document={})  # BLK101
            helpers.bulk(es, actions)  # BLK100
            for hit in helpers.scan(es, index="i"):  # BLK100
                print(hit)
        """,
        # a client returned by a project function, typed by its return annotation
        """
        from elasticsearch import Elasticsearch

        def make_client() -> Elasticsearch:
            return Elasticsearch("http://localhost:9200")

        async def handler():
            make_client().cluster.health()  # BLK101
        """,
        """
        from opensearchpy import OpenSearch

        client = OpenSearch(hosts=["localhost"])

        async def handler():
            client.index(index="i", body={})  # BLK101
            client.indices.refresh(index="i")  # BLK101
        """,
    ],
    "ftplib": [
        """
        import ftplib

        async def handler():
            with ftplib.FTP_TLS() as ftp:
                ftp.connect("ftp.example.com")  # BLK101
                ftp.login()  # BLK101
                ftp.retrbinary("RETR f", print)  # BLK101
                for name, facts in ftp.mlsd():  # BLK101
                    print(name)
        """,
    ],
    "smtplib": [
        """
        import smtplib

        async def handler(message):
            with smtplib.SMTP("mail.example.com", 587) as smtp:
                smtp.starttls()  # BLK101
                smtp.login("u", "p")  # BLK101
                smtp.send_message(message)  # BLK101
        """,
    ],
    "paramiko": [
        """
        import paramiko

        async def handler():
            client = paramiko.SSHClient()
            client.load_system_host_keys()  # BLK101
            client.connect("host")  # BLK101
            client.exec_command("ls")  # BLK101
            sftp = client.open_sftp()  # BLK101
            sftp.put("a", "b")  # BLK101
            with sftp.open("b") as remote:  # BLK101
                remote.read()  # BLK101
            channel = client.get_transport().open_session()  # BLK101
            channel.recv_exit_status()  # BLK101
        """,
    ],
    "kafka": [
        """
        from kafka import KafkaConsumer, KafkaProducer

        async def handler():
            producer = KafkaProducer(bootstrap_servers="k:9092")  # BLK100
            producer.send("t", b"v").get(timeout=10)  # BLK101 BLK101
            producer.flush()  # BLK101

        async def consume(consumer: KafkaConsumer):
            consumer.poll(timeout_ms=1000)  # BLK101
            consumer.commit()  # BLK101
        """,
        """
        from confluent_kafka import Consumer, Producer

        async def handler(producer: Producer, consumer: Consumer):
            producer.flush()  # BLK101
            consumer.poll(1.0)  # BLK101
            consumer.consume(num_messages=10)  # BLK101
        """,
    ],
    "gcs": [
        """
        from google.cloud import storage

        client = storage.Client()

        async def handler(path):
            bucket = client.bucket("b")
            blob = bucket.blob("k")
            blob.upload_from_filename(path)  # BLK101
            data = client.get_bucket("b").get_blob("k").download_as_bytes()  # BLK101 BLK101 BLK101
            names = [b.name for b in client.list_blobs("b")]  # BLK101
            return data, names
        """,
    ],
    "azure-blob": [
        """
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient.from_connection_string("...")

        async def handler(data):
            container = service.get_container_client("c")
            container.upload_blob("k", data)  # BLK101
            blob = container.get_blob_client("k")
            blob.download_blob().readall()  # BLK101 BLK101
            for item in container.list_blobs():  # BLK101
                print(item.name)
        """,
    ],
    "docker": [
        """
        import docker

        async def handler():
            client = docker.from_env()  # BLK100
            container = client.containers.run("alpine", "true", detach=True)  # BLK101
            client.containers.get("c").logs()  # BLK101 BLK101
            client.images.pull("alpine")  # BLK101
            client.ping()  # BLK101
            return container
        """,
    ],
    "pandas": [
        """
        import pandas as pd

        async def handler(path, engine):
            frame = pd.read_csv(path)  # BLK100
            frame.dropna().to_parquet("out.parquet")  # BLK101
            frame.to_sql("t", engine)  # BLK101
            pd.read_excel("in.xlsx")  # BLK100
        """,
    ],
    "pillow": [
        """
        from PIL import Image

        async def handler(path):
            image = Image.open(path)  # BLK100
            image.convert("RGB").resize((64, 64)).save("thumb.jpg")  # BLK101
        """,
    ],
    "httpx2": [
        """
        import httpx2

        async def handler():
            httpx2.get("https://example.com")  # BLK100
            with httpx2.Client() as client:
                client.post("https://example.com")  # BLK101
        """,
    ],
    "urllib3": [
        """
        import urllib3
        from urllib3.connectionpool import HTTPConnectionPool

        async def handler(pool: HTTPConnectionPool):
            pool.urlopen("GET", "/")  # BLK101
            manager = urllib3.PoolManager()
            manager.request("GET", "https://example.com")  # BLK101
            manager.connection_from_url("https://example.com").request("GET", "/")  # BLK101
        """,
    ],
    "stdlib": [
        """
        import tarfile, zipfile

        async def handler(path):
            with zipfile.ZipFile(path) as archive:  # BLK100
                with archive.open("a.txt") as member:  # BLK101
                    member.read()  # BLK101
            with tarfile.TarFile.open(path) as tar:  # BLK100
                tar.extractfile("a").read()  # BLK101 BLK101
        """,
        """
        import socket

        async def handler(address):
            sock = socket.socket()
            sock.connect_ex(address)  # BLK101
        """,
    ],
    "llm-sdks": [
        # OpenAI: a module-level client, its nested resources, and the client kept on `self`
        """
        from openai import OpenAI

        client = OpenAI()

        class Provider:
            def __init__(self, url):
                self.client = OpenAI(base_url=url)

            async def chat(self, messages):
                return self.client.chat.completions.create(model="m", messages=messages)  # BLK101

        async def handler(messages):
            client.embeddings.create(model="m", input="x")  # BLK101
            client.beta.chat.completions.parse(model="m", messages=messages)  # BLK101
            client.with_options(timeout=5).responses.create(model="m", input="x")  # BLK101
        """,
        # a parameter annotated with the sync client
        """
        import openai

        async def handler(client: openai.OpenAI, messages):
            return client.chat.completions.create(model="m", messages=messages)  # BLK101
        """,
        # openai < 1.0 module API
        """
        import openai

        async def handler(messages):
            openai.ChatCompletion.create(model="m", messages=messages)  # BLK100
            openai.Completion.create(model="m", prompt="p")  # BLK100
            openai.Embedding.create(model="m", input="x")  # BLK100
        """,
        """
        import anthropic

        async def handler(messages):
            client = anthropic.Anthropic()
            client.messages.create(model="m", max_tokens=64, messages=messages)  # BLK101
            client.messages.count_tokens(model="m", messages=messages)  # BLK101
        """,
        """
        import litellm
        from litellm import completion

        async def handler(messages):
            completion(model="m", messages=messages)  # BLK100
            litellm.embedding(model="m", input=["x"])  # BLK100
            litellm.text_completion(model="m", prompt="p")  # BLK100
            litellm.image_generation(model="m", prompt="p")  # BLK100
        """,
        """
        import cohere
        from groq import Groq

        async def handler(messages):
            cohere.ClientV2().chat(model="m", messages=messages)  # BLK101
            cohere.Client().embed(texts=["x"], model="m")  # BLK101
            Groq().chat.completions.create(model="m", messages=messages)  # BLK101
        """,
        """
        from google import genai
        from mistralai import Mistral

        async def handler(messages):
            client = genai.Client()
            client.models.generate_content(model="m", contents="x")  # BLK101
            chat = client.chats.create(model="m")
            chat.send_message("x")  # BLK101
            Mistral(api_key="k").chat.complete(model="m", messages=messages)  # BLK101
        """,
    ],
    "loop-protection": [
        """
        import importlib
        import ssl
        import webbrowser

        async def handler(name, url, cafile):
            module = importlib.import_module(name)  # BLK100
            context = ssl.create_default_context()  # BLK100
            context.load_verify_locations(cafile)  # BLK101
            context.load_cert_chain("cert.pem", "key.pem")  # BLK101
            webbrowser.open(url)  # BLK100
            return module
        """,
        """
        import ssl

        async def handler(context: ssl.SSLContext):
            context.load_default_certs()  # BLK101
            context.set_default_verify_paths()  # BLK101
        """,
    ],
}

VALID: dict[str, list[str]] = {
    "aws": [
        # local client methods, and sub-resources only made
        """
        import boto3

        s3 = boto3.client("s3")

        async def handler(key):
            url = s3.generate_presigned_url("get_object", Params={"Key": key})
            paginator = s3.get_paginator("list_objects_v2")
            pages = paginator.paginate(Bucket="b")
            obj = boto3.resource("s3").Bucket("b").Object(key)
            objects = obj.Bucket().objects.all()
            return url, pages, obj, objects, s3.can_paginate("list_objects_v2")
        """,
        # aioboto3 and aiobotocore: awaited
        """
        import aioboto3
        from aiobotocore.session import get_session

        async def handler():
            async with aioboto3.Session().client("s3") as s3:
                await s3.get_object(Bucket="b", Key="k")
            async with get_session().create_client("sqs") as sqs:
                await sqs.send_message(QueueUrl="u", MessageBody="m")
        """,
        # offloaded to a thread
        """
        import asyncio
        import boto3

        S3 = boto3.client("s3")

        async def handler(key):
            return await asyncio.to_thread(S3.get_object, Bucket="b", Key=key)
        """,
    ],
    "sqlalchemy": [
        # building: engines, sessions, queries, pending changes
        """
        from sqlalchemy import create_engine, select
        from sqlalchemy.orm import Session, sessionmaker

        async def handler(user):
            engine = create_engine("sqlite://")
            factory = sessionmaker(engine)
            session = factory()
            session.add(user)
            session.delete(user)
            query = session.query(User).filter(User.id == 1).order_by(User.id)
            stmt = select(User).where(User.id == 1)
            return Session(engine), query, stmt
        """,
        # the asyncio extension: awaited
        """
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        engine = create_async_engine("postgresql+asyncpg://")
        SessionLocal = async_sessionmaker(engine)

        async def handler():
            async with engine.begin() as conn:
                await conn.execute(text("select 1"))
            async with SessionLocal() as session:
                await session.execute(text("select 1"))
                await session.commit()
            async with AsyncSession(engine) as session:
                await session.get(User, 1)
        """,
    ],
    "pymongo": [
        # handles and lazy cursors only made
        """
        import pymongo

        client = pymongo.MongoClient()

        async def handler():
            users = client.app.users
            cursor = users.find({"active": True}).sort("name").limit(10)
            other = client["app"].get_collection("other").with_options()
            return cursor, other, users.name.upper(), client.app.name.title()
        """,
        # PyMongo's async client and motor: awaited
        """
        from motor.motor_asyncio import AsyncIOMotorClient
        from pymongo import AsyncMongoClient

        async def handler(doc):
            client = AsyncMongoClient()
            await client.app.users.find_one({"_id": 1})
            await client["app"]["users"].insert_one(doc)
            motor = AsyncIOMotorClient()
            await motor.app.users.find({}).to_list(None)
        """,
    ],
    "elasticsearch": [
        """
        from elasticsearch import AsyncElasticsearch, Elasticsearch
        from elasticsearch.helpers import async_bulk

        async def handler(es: AsyncElasticsearch, actions):
            await es.search(index="i")
            await es.indices.create(index="i")
            await async_bulk(es, actions)
            sync = Elasticsearch("http://localhost:9200")
            sync.close()
            return sync.options(request_timeout=5)
        """,
        """
        from opensearchpy import AsyncOpenSearch

        async def handler(client: AsyncOpenSearch):
            await client.index(index="i", body={})
        """,
    ],
    "ftplib": [
        """
        import ftplib

        async def handler(ftp: ftplib.FTP):
            ftp.set_pasv(True)
            listing = ftp.mlsd()
            return ftp.getwelcome(), listing
        """,
    ],
    "smtplib": [
        """
        import aiosmtplib
        import smtplib

        async def handler(message, smtp: smtplib.SMTP):
            await aiosmtplib.send(message, hostname="mail.example.com")
            return smtp.has_extn("starttls"), smtplib.SMTP()
        """,
    ],
    "paramiko": [
        """
        import paramiko

        async def handler(sftp: paramiko.SFTPClient):
            client = paramiko.SSHClient()
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
            return client.get_transport(), sftp.getcwd(), sftp.listdir_iter(".")
        """,
    ],
    "kafka": [
        """
        from aiokafka import AIOKafkaProducer
        from confluent_kafka import Consumer, Producer
        from kafka import KafkaConsumer

        async def handler(producer: Producer, consumer: Consumer, legacy: KafkaConsumer):
            producer.produce("t", b"v")
            producer.poll(0)
            consumer.subscribe(["t"])
            legacy.seek_to_beginning()
            legacy.commit_async()
            aio = AIOKafkaProducer(bootstrap_servers="k:9092")
            await aio.start()
            await aio.send_and_wait("t", b"v")
        """,
    ],
    "gcs": [
        """
        from google.cloud import storage

        async def handler(client: storage.Client):
            blob = client.bucket("b").blob("k")
            blobs = client.list_blobs("b")
            return blob, blobs
        """,
    ],
    "azure-blob": [
        """
        from azure.storage.blob import BlobServiceClient
        from azure.storage.blob.aio import BlobServiceClient as AsyncBlobServiceClient

        async def handler(service: BlobServiceClient, data):
            blob = service.get_container_client("c").get_blob_client("k")
            pages = service.get_container_client("c").list_blobs()
            aio = AsyncBlobServiceClient.from_connection_string("...")
            await aio.get_container_client("c").upload_blob("k", data)
            return blob, pages
        """,
    ],
    "docker": [
        """
        import aiodocker

        async def handler():
            docker = aiodocker.Docker()
            await docker.containers.list()
        """,
    ],
    "pandas": [
        # in-memory work and the string-returning writers
        """
        import pandas as pd

        async def handler(rows):
            frame = pd.DataFrame(rows)
            return frame.to_csv(), frame.to_json(), frame.describe(), frame.to_dict()
        """,
    ],
    "pillow": [
        """
        from PIL import Image

        async def handler():
            image = Image.new("RGB", (8, 8))
            return image.resize((4, 4)).copy()
        """,
    ],
    "httpx2": [
        """
        import httpx2

        async def handler():
            async with httpx2.AsyncClient() as client:
                await client.get("https://example.com")
        """,
    ],
    "urllib3": [
        """
        import urllib3

        async def handler():
            manager = urllib3.PoolManager()
            pool = manager.connection_from_url("https://example.com")
            same = pool.is_same_host("https://example.com")
            manager.clear()
            return same
        """,
    ],
    "async-twins": [
        """
        import aiofiles
        import asyncpg
        import httpx
        import redis.asyncio as redis

        async def handler():
            r = redis.from_url("redis://")
            await r.get("k")
            async with httpx.AsyncClient() as client:
                await client.get("https://example.com")
            conn = await asyncpg.connect("postgresql://")
            await conn.fetch("select 1")
            async with aiofiles.open("f") as handle:
                await handle.read()
        """,
    ],
    "llm-sdks": [
        # the async clients and twins, awaited
        """
        import anthropic
        import cohere
        import litellm
        import openai
        from google import genai
        from mistralai import Mistral

        async def handler(messages):
            await openai.AsyncOpenAI().chat.completions.create(model="m", messages=messages)
            await openai.ChatCompletion.acreate(model="m", messages=messages)
            await anthropic.AsyncAnthropic().messages.create(model="m", max_tokens=1, messages=messages)
            await litellm.acompletion(model="m", messages=messages)
            await litellm.aembedding(model="m", input=["x"])
            await litellm.atext_completion(model="m", prompt="p")
            await cohere.AsyncClientV2().chat(model="m", messages=messages)
            await genai.Client().aio.models.generate_content(model="m", contents="x")
            await Mistral(api_key="k").chat.complete_async(model="m", messages=messages)
        """,
        # offloaded to a thread, and clients only made
        """
        import asyncio

        import litellm
        from openai import OpenAI

        async def handler(messages):
            client = OpenAI()
            await asyncio.to_thread(client.chat.completions.create, model="m", messages=messages)
            await asyncio.to_thread(litellm.completion, model="m", messages=messages)
            return client.with_options(timeout=5)
        """,
        # sync code calls the sync clients
        """
        import litellm
        from openai import OpenAI

        def handler(messages):
            OpenAI().chat.completions.create(model="m", messages=messages)
            return litellm.completion(model="m", messages=messages)
        """,
    ],
    "loop-protection": [
        """
        import asyncio
        import importlib
        import ssl
        import webbrowser

        CONTEXT = ssl.create_default_context()

        async def handler(name, url):
            module = await asyncio.to_thread(importlib.import_module, name)
            context = await asyncio.to_thread(ssl.create_default_context)
            await asyncio.to_thread(webbrowser.open, url)
            return module, context, ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), CONTEXT
        """,
    ],
}


def _expected(code: str) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(textwrap.dedent(code).strip("\n").splitlines(), start=1):
        match = MARK.search(line)
        if match is not None:
            found += [(number, rule) for rule in match.group(1).split()]
    return sorted(found)


def _reported(code: str) -> list[tuple[int, str]]:
    findings = analyze(textwrap.dedent(code).strip("\n") + "\n", select=("BLK",))
    return sorted((f.line, f.code) for f in findings)


def _cases(table: dict[str, list[str]]) -> list[object]:
    return [
        pytest.param(code, id=f"{library}-{index}")
        for library, codes in table.items()
        for index, code in enumerate(codes)
    ]


@pytest.mark.parametrize("code", _cases(INVALID))
def test_blocking_library_calls_are_reported(code: str) -> None:
    assert _expected(code), "an INVALID case marks at least one finding"
    findings = analyze(textwrap.dedent(code).strip("\n") + "\n", select=("BLK",))
    assert _reported(code) == _expected(code), [f.message for f in findings]


@pytest.mark.parametrize("code", _cases(VALID))
def test_async_twins_and_local_methods_are_not_reported(code: str) -> None:
    findings = analyze(textwrap.dedent(code).strip("\n") + "\n", select=("BLK",))
    assert findings == [], [f.message for f in findings]


LIBRARY_FAMILIES = [
    "aws",
    "sqlalchemy",
    "mongodb",
    "elasticsearch",
    "opensearch",
    "ftp",
    "smtp",
    "ssh",
    "kafka",
    "gcs",
    "azure-blob",
    "docker",
    "pandas-io",
    "image-file",
    "httpx2",
    "llm-openai",
    "llm-openai-v0",
    "llm-anthropic",
    "llm-groq",
    "llm-litellm-completion",
    "llm-litellm-embedding",
    "llm-litellm-text-completion",
    "llm-litellm",
    "llm-cohere",
    "llm-google-genai",
    "llm-mistral",
    "import",
    "ssl-certificates",
    "browser",
]


@pytest.mark.parametrize("family_id", LIBRARY_FAMILIES)
def test_every_library_family_names_its_alternative_and_where_it_is_documented(
    family_id: str,
) -> None:
    family = default_catalogue().families[family_id]
    assert family.alternative.strip()
    assert family.docs.startswith("https://")
    assert family.advice.endswith(f"({family.docs})")


def test_the_message_carries_the_alternative_and_its_documentation() -> None:
    code = "import boto3\n\nasync def f():\n    boto3.client('s3').list_buckets()\n"
    (finding,) = analyze(code, select=("BLK101",))
    assert "makes a blocking AWS API call" in finding.message
    assert "aioboto3" in finding.message
    assert "https://aioboto3.readthedocs.io/" in finding.message


def test_smtplib_has_its_own_family() -> None:
    catalogue = default_catalogue()
    family = catalogue.method_family("smtplib.SMTP_SSL", "sendmail")
    assert family is not None
    assert family.id == "smtp"
    assert catalogue.method_family("smtplib.SMTP", "close") is None


@pytest.mark.parametrize(
    "alias",
    [
        "urllib3.PoolManager",
        "urllib3.ProxyManager",
        "urllib3.HTTPConnectionPool",
        "urllib3.HTTPSConnectionPool",
        "urllib3.connectionpool.ConnectionPool",
        "urllib3.connectionpool.HTTPConnectionPool",
        "urllib3.connectionpool.HTTPSConnectionPool",
        "urllib3.poolmanager.PoolManager",
        "urllib3.poolmanager.ProxyManager",
        "urllib3.request.RequestMethods",
        "urllib3._request_methods.RequestMethods",
    ],
)
def test_urllib3_pools_are_one_type_whose_requests_block(alias: str) -> None:
    catalogue = default_catalogue()
    assert catalogue.canonical_type(alias) == "urllib3.PoolManager"
    for method in ("request", "urlopen", "request_encode_url", "request_encode_body"):
        assert catalogue.method_family(alias, method) is not None
    for method in ("connection_from_url", "is_same_host", "clear", "close"):
        assert catalogue.method_family(alias, method) is None


def test_the_report_lists_awaited_async_twins_as_async_io(project: Project) -> None:
    project.write("pyproject.toml", "[tool.soni-audit]\n")
    project.write(
        "svc/handlers.py",
        """\
        import aioboto3
        from motor.motor_asyncio import AsyncIOMotorClient
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

        Session = async_sessionmaker(create_async_engine("postgresql+asyncpg://"))

        async def handler():
            client = AsyncIOMotorClient()
            await client.app.users.find_one({})
            async with Session() as session:
                await session.execute(text("select 1"))
            async with aioboto3.Session().client("s3") as s3:
                await s3.list_buckets()
        """,
    )
    result = project.run("report", "svc", "--out", "out")
    assert result.returncode == 0, result.stderr
    audit = (project.root / "out" / "sync-calls-audit.md").read_text()
    for row in (
        "| 10 | async I/O | `client.app.users.find_one` | "
        "motor.motor_asyncio.AsyncIOMotorCollection.find_one |",
        "| 12 | async I/O | `session.execute` | sqlalchemy.ext.asyncio.AsyncSession.execute |",
        "| 14 | async I/O | `s3.list_buckets` | aiobotocore.client.AioBaseClient.list_buckets |",
    ):
        assert row in audit, audit
